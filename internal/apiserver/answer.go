package apiserver

import (
	"encoding/json"

	"essworker/tasks"
)

// appendSubmitAnswer appends submitAnswer{Jobs: jobs} as JSON and a newline,
// byte for byte what json.Marshal writes: the answer of every submission,
// written without reflection.
func appendSubmitAnswer(b []byte, jobs []tasks.EnqueueResult) []byte {
	if jobs == nil {
		return append(b, "{\"jobs\":null}\n"...)
	}
	b = append(b, `{"jobs":[`...)
	for i, j := range jobs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"task_id":`...)
		b = appendJSONString(b, j.TaskID)
		b = append(b, `,"client_token":`...)
		b = appendJSONString(b, j.ClientToken)
		b = append(b, `,"queue":`...)
		b = appendJSONString(b, j.Queue)
		b = append(b, `,"state":`...)
		b = appendJSONString(b, j.State)
		b = append(b, '}')
	}
	return append(b, "]}\n"...)
}

// submitAnswerSize is the length of appendSubmitAnswer's JSON of jobs when
// no string needs escaping.
func submitAnswerSize(jobs []tasks.EnqueueResult) int {
	n := len(`{"jobs":[]}` + "\n")
	for _, j := range jobs {
		n += len(`{"task_id":"","client_token":"","queue":"","state":""},`) +
			len(j.TaskID) + len(j.ClientToken) + len(j.Queue) + len(j.State)
	}
	return n
}

// appendJSONString appends s as a JSON string, as json.Marshal writes it. The
// strings of an answer are printable ASCII, which goes as it is unless
// json.Marshal escapes it ('"', '\\', and '<', '>', '&' for HTML); any other
// string goes through json.Marshal.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > '~' || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
