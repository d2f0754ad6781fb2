package esstest

import (
	"errors"
	"fmt"
	"time"
)

// ErrGroupNotFound is wrapped by the error StartGroupActivity returns for a
// group the emulator does not have.
var ErrGroupNotFound = errors.New("esstest: scaling group not found")

// Cause and default Description of a group's own activity.
const (
	groupActivityCause       = "The scaling group started this activity itself."
	groupActivityDescription = "An activity of the scaling group."
)

// GroupActivity is an activity a scaling group runs for its own reasons, as
// real groups run scale-outs and health-check replacements for minutes, in
// the JSON shape of POST /_emulator/scaling-groups/{ScalingGroupId}/activities.
// Every field is optional. It changes nothing in the group; while it is
// InProgress, detaches and attaches of the group answer
// ScalingActivityInProgress.
type GroupActivity struct {
	// Duration is how long it stays InProgress. Default: the group's
	// ActivityDuration, else Config.ActivityDuration.
	Duration Duration `json:"Duration,omitempty"`
	// StatusCode is how it ends: Successful (default), Warning, Failed or Rejected.
	StatusCode string `json:"StatusCode,omitempty"`
	// Description is what DescribeScalingActivities lists for it.
	Description string `json:"Description,omitempty"`
}

// normalized validates a and fills in its defaults, but not Duration's, which
// depends on the group. The error starts with the name of the offending field.
func (a GroupActivity) normalized() (GroupActivity, error) {
	if a.Duration < 0 {
		return a, fmt.Errorf("Duration: %v is negative", time.Duration(a.Duration))
	}
	switch a.StatusCode {
	case "":
		a.StatusCode = StatusSuccessful
	case StatusSuccessful, StatusWarning, StatusFailed, StatusRejected:
	default:
		return a, fmt.Errorf("StatusCode: %q is not one of Successful, Warning, Failed, Rejected", a.StatusCode)
	}
	if a.Description == "" {
		a.Description = groupActivityDescription
	}
	return a, nil
}

// StartGroupActivity starts an activity that group groupID runs for its own
// reasons, in whatever region the group is, and returns it as it is now
// (InProgress). A group may run any number of them at once, besides one
// detach or attach. The error wraps ErrInvalidState, naming the field, for a
// bad a, and ErrGroupNotFound for an unknown group.
func (e *Emulator) StartGroupActivity(groupID string, a GroupActivity) (Activity, error) {
	a, err := a.normalized()
	if err != nil {
		return Activity{}, fmt.Errorf("%w: group activity: %w", ErrInvalidState, err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.cfg.Clock.Now()
	e.settle(now)
	g, ok := e.groups[groupID]
	if !ok {
		return Activity{}, fmt.Errorf("%w: %q", ErrGroupNotFound, groupID)
	}
	d := time.Duration(a.Duration)
	if d == 0 {
		d = activityDuration(g, e.cfg.ActivityDuration)
	}
	act := &activity{
		groupID:      g.ScalingGroupId,
		region:       g.RegionId,
		cause:        groupActivityCause,
		description:  a.Description,
		start:        now,
		end:          now.Add(d),
		finalCode:    a.StatusCode,
		finalMessage: defaultStatusMessages[a.StatusCode],
	}
	e.addActivity(act)
	e.stats.GroupActivitiesCreated++
	return act.view(now), nil
}
