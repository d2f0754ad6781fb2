package main

import (
	"context"
	"fmt"
	"strconv"
	"syscall"
	"time"
)

// processCPU is the CPU time (user and system) this process has used.
func processCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// usedCPU is INFO cpu used_cpu_user plus used_cpu_sys: the CPU time the
// Redis server has used, whoever its clients.
func (r *redisTarget) usedCPU(ctx context.Context) (time.Duration, error) {
	var total time.Duration
	for _, field := range []string{"used_cpu_user", "used_cpu_sys"} {
		v, err := r.info(ctx, "cpu", field)
		if err != nil {
			return 0, err
		}
		s, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, fmt.Errorf("redis INFO %s %q: %w", field, v, err)
		}
		total += time.Duration(s * float64(time.Second))
	}
	return total, nil
}

// cpuTimes is CPU time spent by this process and by the Redis server.
type cpuTimes struct{ process, redis time.Duration }

// countCPU returns a function giving the CPU time this process and the Redis
// server used since it was made. CPU time moves less than throughput when
// other work shares the machine, so it helps tell what a change costs when
// jobs per second are too noisy to.
func countCPU(ctx context.Context, r *redisTarget) (func() (cpuTimes, error), error) {
	p0, err := processCPU()
	if err != nil {
		return nil, err
	}
	r0, err := r.usedCPU(ctx)
	if err != nil {
		return nil, err
	}
	return func() (cpuTimes, error) {
		p1, err := processCPU()
		if err != nil {
			return cpuTimes{}, err
		}
		r1, err := r.usedCPU(ctx)
		return cpuTimes{process: p1 - p0, redis: r1 - r0}, err
	}, nil
}
