package esstest

import (
	"net/http"
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
		controlError(w, http.StatusNotFound, "no emulator endpoint at "+r.URL.Path)
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
	requestID := strings.ToUpper(uuid.NewString())
	writeJSON(w, status, requestID, errorBody{
		RequestId: requestID,
		HostId:    HostID,
		Code:      code,
		Message:   message,
		Recommend: "See the esstest package documentation for the /_emulator/ endpoints.",
	})
}
