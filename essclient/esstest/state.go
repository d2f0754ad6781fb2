package esstest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// ErrInvalidState is wrapped by every error that LoadState, AddScalingGroup and
// SetFaults return for bad input; the message names the field.
var ErrInvalidState = errors.New("esstest: invalid input")

// Lifecycle states of a scaling group.
const (
	LifecycleActive   = "Active"
	LifecycleInactive = "Inactive"
	LifecycleDeleting = "Deleting"
)

// Status codes of a scaling activity. InProgress is the only non-terminal one.
const (
	StatusInProgress = "InProgress"
	StatusSuccessful = "Successful"
	StatusWarning    = "Warning"
	StatusFailed     = "Failed"
	StatusRejected   = "Rejected"
)

// MaxLoadBalancersPerGroup is ESS's quota of load balancers attached to one
// group, and the most one request may name.
const MaxLoadBalancersPerGroup = 5

// MaxSeededLoadBalancers is the most load balancers a group may be given in the
// state file or by AddScalingGroup: accounts can have ESS raise the quota, and
// tests of splitting a request into several calls need such a group. Attach
// still enforces MaxLoadBalancersPerGroup.
const MaxSeededLoadBalancers = 50

// ScalingGroup is one group, in the JSON shape of the state file and of
// POST /_emulator/scaling-groups. The Activity* fields are emulator extensions (all optional).
type ScalingGroup struct {
	ScalingGroupId  string   `json:"ScalingGroupId"`
	RegionId        string   `json:"RegionId,omitempty"` // default DefaultRegionID
	LoadBalancerIds []string `json:"LoadBalancerIds"`
	LifecycleState  string   `json:"LifecycleState,omitempty"` // default "Active"
	// ActivityStatusCode is how this group's async detaches and attaches end: "" or "Successful"
	// (default), "Warning", "Failed", "Rejected". Successful and Warning detach the load
	// balancers when the activity ends; Failed and Rejected leave them attached.
	ActivityStatusCode    string `json:"ActivityStatusCode,omitempty"`
	ActivityStatusMessage string `json:"ActivityStatusMessage,omitempty"`
	// ActivityDuration overrides Config.ActivityDuration for this group ("500ms", "1000h").
	ActivityDuration Duration `json:"ActivityDuration,omitempty"`
}

// State is the state file of cmd/ess-emulator.
type State struct {
	AccessKeys    map[string]string `json:"AccessKeys"`
	ScalingGroups []ScalingGroup    `json:"ScalingGroups"`
}

// LoadState reads a State from JSON strictly: unknown fields, trailing data,
// invalid groups and duplicate group IDs are errors that name the field.
func LoadState(r io.Reader) (State, error) {
	var st State
	if err := decodeStrict(r, &st); err != nil {
		return State{}, fmt.Errorf("%w: state: %w", ErrInvalidState, err)
	}
	for id, secret := range st.AccessKeys {
		if id == "" || secret == "" {
			return State{}, fmt.Errorf("%w: state: AccessKeys: empty AccessKeyId or secret", ErrInvalidState)
		}
	}
	seen := make(map[string]bool, len(st.ScalingGroups))
	for i := range st.ScalingGroups {
		g, err := st.ScalingGroups[i].normalized()
		if err != nil {
			return State{}, fmt.Errorf("%w: state: ScalingGroups[%d].%w", ErrInvalidState, i, err)
		}
		if seen[g.ScalingGroupId] {
			return State{}, fmt.Errorf("%w: state: ScalingGroups[%d].ScalingGroupId: duplicate %q", ErrInvalidState, i, g.ScalingGroupId)
		}
		seen[g.ScalingGroupId] = true
		st.ScalingGroups[i] = g
	}
	return st, nil
}

// normalized validates g and fills in its defaults. The error starts with the
// name of the offending field.
func (g ScalingGroup) normalized() (ScalingGroup, error) {
	if g.ScalingGroupId == "" {
		return g, errors.New("ScalingGroupId: required")
	}
	if g.RegionId == "" {
		g.RegionId = DefaultRegionID
	}
	if len(g.LoadBalancerIds) > MaxSeededLoadBalancers {
		return g, fmt.Errorf("LoadBalancerIds: %d load balancers, at most %d", len(g.LoadBalancerIds), MaxSeededLoadBalancers)
	}
	for i, id := range g.LoadBalancerIds {
		if id == "" {
			return g, fmt.Errorf("LoadBalancerIds[%d]: empty", i)
		}
		if slices.Index(g.LoadBalancerIds, id) != i {
			return g, fmt.Errorf("LoadBalancerIds[%d]: duplicate %q", i, id)
		}
	}
	g.LoadBalancerIds = slices.Clone(g.LoadBalancerIds)
	if g.LoadBalancerIds == nil {
		g.LoadBalancerIds = []string{}
	}
	switch g.LifecycleState {
	case "":
		g.LifecycleState = LifecycleActive
	case LifecycleActive, LifecycleInactive, LifecycleDeleting:
	default:
		return g, fmt.Errorf("LifecycleState: %q is not one of Active, Inactive, Deleting", g.LifecycleState)
	}
	switch g.ActivityStatusCode {
	case "":
		g.ActivityStatusCode = StatusSuccessful
	case StatusSuccessful, StatusWarning, StatusFailed, StatusRejected:
	default:
		return g, fmt.Errorf("ActivityStatusCode: %q is not one of Successful, Warning, Failed, Rejected", g.ActivityStatusCode)
	}
	if g.ActivityDuration < 0 {
		return g, fmt.Errorf("ActivityDuration: %v is negative", g.ActivityDuration)
	}
	return g, nil
}

// decodeStrict decodes exactly one JSON value into v, rejecting unknown
// fields and trailing data. Errors name the field where JSON allows it.
func decodeStrict(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return describeJSONError(err)
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// describeJSONError rewrites encoding/json's errors so they start with the field.
func describeJSONError(err error) error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) && typeErr.Field != "" {
		want := typeErr.Type.String()
		if typeErr.Type == durationType {
			want = `a duration string such as "200ms"`
		}
		return fmt.Errorf("%s: must be %s, got %s", typeErr.Field, want, typeErr.Value)
	}
	if msg, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return fmt.Errorf("%s: unknown field", msg)
	}
	if errors.Is(err, io.EOF) {
		return errors.New("empty input")
	}
	return err
}

// jsonBytes marshals v for a response; the values marshalled here cannot fail.
func jsonBytes(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("esstest: marshal %T: %v", v, err))
	}
	return buf.Bytes()
}
