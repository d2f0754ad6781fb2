package esstest

import (
	"fmt"
	"strings"
	"time"
)

// activityRetention is how far back DescribeScalingActivities looks; older
// finished activities are forgotten.
const activityRetention = 30 * 24 * time.Hour

// minuteLayout is ESS's minute-precision UTC time format.
const minuteLayout = "2006-01-02T15:04Z"

// Activity is the state of one scaling activity at the time it was read.
// EndTime is the zero time while the activity is InProgress.
type Activity struct {
	ScalingActivityId, ScalingGroupId, StatusCode, StatusMessage string
	Cause, Description                                           string
	Progress                                                     int
	StartTime, EndTime                                           time.Time
}

// activity is an asynchronous detach or attach, or an activity the group runs
// for its own reasons (kind nil), which changes nothing. Its status is
// computed from the Clock when read; settle applies its effect once the Clock
// passes end.
type activity struct {
	id, groupID        string
	region             string // the group's, when the activity started
	kind               *lbAction
	loadBalancers      []string
	cause, description string
	start, end         time.Time
	finalCode          string
	finalMessage       string
	settled            bool
}

// defaultStatusMessages are the StatusMessage of a terminal activity whose
// group sets no ActivityStatusMessage.
var defaultStatusMessages = map[string]string{
	StatusSuccessful: "",
	StatusWarning:    "The scaling activity partially succeeded.",
	StatusFailed:     "The scaling activity failed.",
	StatusRejected:   "The scaling activity was rejected.",
}

// newActivity starts a detach or attach activity of group g now.
func newActivity(g *ScalingGroup, kind *lbAction, lbs []string, now time.Time, defaultDuration time.Duration) *activity {
	msg := g.ActivityStatusMessage
	if msg == "" {
		msg = defaultStatusMessages[g.ActivityStatusCode]
	}
	quoted := make([]string, len(lbs))
	for i, lb := range lbs {
		quoted[i] = fmt.Sprintf("%q", lb)
	}
	return &activity{
		groupID:       g.ScalingGroupId,
		region:        g.RegionId,
		kind:          kind,
		loadBalancers: lbs,
		cause:         fmt.Sprintf("A user requested to %s load balancers.", kind.verb),
		description:   fmt.Sprintf("%s load balancers %s.", kind.title, strings.Join(quoted, ", ")),
		start:         now,
		end:           now.Add(activityDuration(g, defaultDuration)),
		finalCode:     g.ActivityStatusCode,
		finalMessage:  msg,
	}
}

// activityDuration is how long an activity of g runs: the group's
// ActivityDuration, else defaultDuration (Config.ActivityDuration).
func activityDuration(g *ScalingGroup, defaultDuration time.Duration) time.Duration {
	if d := time.Duration(g.ActivityDuration); d > 0 {
		return d
	}
	return defaultDuration
}

// succeeds reports whether the activity's change takes effect when it ends.
func (a *activity) succeeds() bool {
	return a.finalCode == StatusSuccessful || a.finalCode == StatusWarning
}

// view is the activity as seen at now.
func (a *activity) view(now time.Time) Activity {
	v := Activity{
		ScalingActivityId: a.id,
		ScalingGroupId:    a.groupID,
		Cause:             a.cause,
		Description:       a.description,
		StartTime:         a.start,
	}
	if a.settled {
		v.StatusCode, v.StatusMessage, v.Progress, v.EndTime = a.finalCode, a.finalMessage, 100, a.end
		return v
	}
	v.StatusCode = StatusInProgress
	if total := a.end.Sub(a.start); total > 0 {
		v.Progress = min(99, max(0, int(now.Sub(a.start)*100/total)))
	}
	return v
}

// activityJSON is one element of DescribeScalingActivities, typed as the
// SDK's ess.ScalingActivity (strings stay strings, ints stay ints).
type activityJSON struct {
	ScalingActivityId     string `json:"ScalingActivityId"`
	ScalingGroupId        string `json:"ScalingGroupId"`
	StatusCode            string `json:"StatusCode"`
	StatusMessage         string `json:"StatusMessage"`
	Progress              int    `json:"Progress"`
	Cause                 string `json:"Cause"`
	Description           string `json:"Description"`
	StartTime             string `json:"StartTime"`
	EndTime               string `json:"EndTime"`
	TotalCapacity         string `json:"TotalCapacity"`
	AttachedCapacity      string `json:"AttachedCapacity"`
	AutoCreatedCapacity   string `json:"AutoCreatedCapacity"`
	ScalingInstanceNumber int    `json:"ScalingInstanceNumber"`
}

func (a *activity) json(now time.Time) activityJSON { return a.view(now).json() }

// json is the activity in the shape DescribeScalingActivities lists it.
func (v Activity) json() activityJSON {
	end := ""
	if !v.EndTime.IsZero() {
		end = v.EndTime.UTC().Format(minuteLayout)
	}
	return activityJSON{
		ScalingActivityId:   v.ScalingActivityId,
		ScalingGroupId:      v.ScalingGroupId,
		StatusCode:          v.StatusCode,
		StatusMessage:       v.StatusMessage,
		Progress:            v.Progress,
		Cause:               v.Cause,
		Description:         v.Description,
		StartTime:           v.StartTime.UTC().Format(minuteLayout),
		EndTime:             end,
		TotalCapacity:       "0",
		AttachedCapacity:    "0",
		AutoCreatedCapacity: "0",
	}
}
