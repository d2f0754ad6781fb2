package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/google/uuid"

	"essworker/tasks"
)

// request is one detach request, before tasks.Enqueue splits it into jobs.
type request struct {
	payload tasks.DetachPayload
	// n is the request's position in --file (from 1, blank lines not
	// counted), 0 for the request built from flags.
	n int
}

// flagOfField names the flag that sets each payload field, so that an invalid
// request built from flags is reported by flag: "--lb: LoadBalancerIds[1]: empty".
var flagOfField = map[string]string{
	"RegionId":        "region",
	"ScalingGroupId":  "group",
	"LoadBalancerIds": "lb",
	"ClientToken":     "token",
}

// loadRequests builds the requests from the flags or from --file and validates
// every one of them, so that nothing is queued unless all are valid. Every
// request leaves with a ClientToken: validating (tasks.SplitDetach) and queueing
// (tasks.Enqueue) then cut it into the same jobs, and after a Redis failure run
// can name the token that resumes the request without queueing a job twice.
func loadRequests(o *options, stdin io.Reader) ([]request, error) {
	var reqs []request
	if o.fromFile() {
		payloads, err := readFile(o.file, stdin)
		if err != nil {
			return nil, err
		}
		for i, p := range payloads {
			reqs = append(reqs, request{payload: p, n: i + 1})
		}
	} else {
		reqs = []request{{payload: tasks.DetachPayload{
			RegionId:        o.region,
			ScalingGroupId:  o.group,
			LoadBalancerIds: o.lbs,
			ForceDetach:     o.force,
			Async:           o.async,
			ClientToken:     o.token,
		}}}
	}
	for i := range reqs {
		p := &reqs[i].payload
		regionFromFlag := p.RegionId == "" && o.region != ""
		if regionFromFlag {
			p.RegionId = o.region
		}
		if p.ClientToken == "" {
			p.ClientToken = uuid.NewString()
		}
		if _, err := tasks.SplitDetach(*p); err != nil {
			return nil, requestError(reqs[i], regionFromFlag, err)
		}
	}
	return reqs, nil
}

// requestError names the flag behind an invalid field of a request built
// from flags (or of a --file line given its region by --region), else the
// request's position in --file. ParseDetachLines has already validated the
// lines, so the last case is a safety net.
func requestError(r request, regionFromFlag bool, err error) error {
	var fe *tasks.FieldError
	if errors.As(err, &fe) {
		flagName, ok := flagOfField[fieldName(fe.Field)]
		if ok && (r.n == 0 || (regionFromFlag && fe.Field == "RegionId")) {
			return fmt.Errorf("--%s: %s: %s", flagName, fe.Field, fe.Reason)
		}
	}
	if r.n == 0 {
		return err
	}
	return fmt.Errorf("--file request %d: %w", r.n, err)
}

// readFile reads --file (standard input for "-") with tasks.ParseDetachLines.
// Its errors name each bad line: "line 3: invalid payload: ScalingGroupId: required".
func readFile(name string, stdin io.Reader) ([]tasks.DetachPayload, error) {
	r := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("--file: %w", err)
		}
		defer f.Close()
		r = f
	}
	payloads, err := tasks.ParseDetachLines(r)
	if err != nil && !errors.Is(err, tasks.ErrInvalidPayload) {
		return nil, fmt.Errorf("--file %s: %w", name, err)
	}
	return payloads, err
}

// fieldName strips the index from a list element's field: "LoadBalancerIds[2]"
// is set by the flag of "LoadBalancerIds".
func fieldName(field string) string {
	name, _, _ := strings.Cut(field, "[")
	return name
}
