package main

import "errors"

// fleet is worker processes that stop together.
type fleet struct {
	procs     []*workerProcess
	warnLines int // log lines at warn or above of the processes stopped so far
}

func (f *fleet) add(p *workerProcess) { f.procs = append(f.procs, p) }

// stop stops every process and counts its warnings; it may be called more
// than once.
func (f *fleet) stop() error {
	var errs []error
	for _, p := range f.procs {
		errs = append(errs, p.stop())
		f.warnLines += p.warnLines()
	}
	f.procs = nil
	return errors.Join(errs...)
}
