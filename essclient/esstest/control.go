package esstest

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"
)

// Control endpoints, under controlPrefix. They need no signature.
const (
	PathStats         = controlPrefix + "stats"
	PathFaults        = controlPrefix + "faults"
	PathScalingGroups = controlPrefix + "scaling-groups"
)

// maxControlBody bounds a control request's JSON body.
const maxControlBody = 1 << 20

// serveControl answers the /_emulator/ endpoints:
//
//	GET  /_emulator/stats           Stats
//	GET  /_emulator/faults          the current FaultPlan
//	POST /_emulator/faults          replace the FaultPlan ({} clears it)
//	GET  /_emulator/scaling-groups  every group's current state
//	POST /_emulator/scaling-groups  add or replace one group
//	POST /_emulator/scaling-groups/{ScalingGroupId}/activities
//	                                start a GroupActivity; answers it as DescribeScalingActivities lists it
//
// Errors are JSON in ESS's five-field shape, the message naming the field.
func (e *Emulator) serveControl(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case PathStats:
		if allow(w, r, http.MethodGet) {
			writeJSON(w, http.StatusOK, "", e.Stats())
		}
	case PathFaults:
		if !allow(w, r, http.MethodGet, http.MethodPost) {
			return
		}
		if r.Method == http.MethodPost {
			var plan FaultPlan
			if err := decodeStrict(http.MaxBytesReader(w, r.Body, maxControlBody), &plan); err != nil {
				controlError(w, http.StatusBadRequest, "fault plan: "+err.Error())
				return
			}
			if err := e.SetFaults(plan); err != nil {
				controlError(w, http.StatusBadRequest, err.Error())
				return
			}
		}
		writeJSON(w, http.StatusOK, "", e.Faults())
	case PathScalingGroups:
		if !allow(w, r, http.MethodGet, http.MethodPost) {
			return
		}
		if r.Method == http.MethodGet {
			writeJSON(w, http.StatusOK, "", e.ScalingGroups())
			return
		}
		var g ScalingGroup
		if err := decodeStrict(http.MaxBytesReader(w, r.Body, maxControlBody), &g); err != nil {
			controlError(w, http.StatusBadRequest, "scaling group: "+err.Error())
			return
		}
		if err := e.AddScalingGroup(g); err != nil {
			controlError(w, http.StatusBadRequest, err.Error())
			return
		}
		stored, _ := e.ScalingGroup(g.ScalingGroupId)
		writeJSON(w, http.StatusOK, "", stored)
	default:
		if groupID, ok := groupActivitiesPath(r.URL); ok {
			e.serveGroupActivities(w, r, groupID)
			return
		}
		controlError(w, http.StatusNotFound, "no emulator endpoint at "+r.URL.Path)
	}
}

// groupActivitiesPath returns the group ID of a path
// /_emulator/scaling-groups/{ScalingGroupId}/activities. The ID is one path
// segment, percent-decoded, so any ID can be named.
func groupActivitiesPath(u *url.URL) (string, bool) {
	rest, ok := strings.CutPrefix(u.EscapedPath(), PathScalingGroups+"/")
	if !ok {
		return "", false
	}
	escaped, ok := strings.CutSuffix(rest, "/activities")
	if !ok || escaped == "" || strings.Contains(escaped, "/") {
		return "", false
	}
	id, err := url.PathUnescape(escaped)
	return id, err == nil
}

// serveGroupActivities starts an activity of a group for its own reasons.
func (e *Emulator) serveGroupActivities(w http.ResponseWriter, r *http.Request, groupID string) {
	if !allow(w, r, http.MethodPost) {
		return
	}
	var ga GroupActivity
	if err := decodeStrict(http.MaxBytesReader(w, r.Body, maxControlBody), &ga); err != nil {
		controlError(w, http.StatusBadRequest, "group activity: "+err.Error())
		return
	}
	a, err := e.StartGroupActivity(groupID, ga)
	switch {
	case errors.Is(err, ErrGroupNotFound):
		writeControlError(w, StatusForCode(CodeGroupNotFound), CodeGroupNotFound,
			fmt.Sprintf("The specified scaling group %q does not exist.", groupID))
	case err != nil:
		controlError(w, http.StatusBadRequest, err.Error())
	default:
		writeJSON(w, http.StatusOK, "", a.json())
	}
}

// allow answers 405 unless r uses one of methods.
func allow(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	controlError(w, http.StatusMethodNotAllowed, r.Method+" is not allowed on "+r.URL.Path)
	return false
}

// controlError answers in ESS's error shape, so one decoder reads every error.
func controlError(w http.ResponseWriter, status int, message string) {
	code := CodeInvalidParameter
	switch status {
	case http.StatusNotFound:
		code = "NotFound"
	case http.StatusMethodNotAllowed:
		code = "MethodNotAllowed"
	}
	writeControlError(w, status, code, message)
}

// writeControlError answers code in ESS's error shape.
func writeControlError(w http.ResponseWriter, status int, code, message string) {
	requestID := strings.ToUpper(uuid.NewString())
	writeJSON(w, status, requestID, errorBody{
		RequestId: requestID,
		HostId:    HostID,
		Code:      code,
		Message:   message,
		Recommend: "See the esstest package documentation for the /_emulator/ endpoints.",
	})
}
