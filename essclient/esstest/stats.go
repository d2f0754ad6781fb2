package esstest

import "maps"

// Stats counts what the emulator did, so a test can prove "applied exactly once".
type Stats struct {
	Calls             map[string]map[string]int `json:"Calls"` // action -> code ("OK" on success) -> count
	ActivitiesCreated int                       `json:"ActivitiesCreated"`
	DetachesApplied   int                       `json:"DetachesApplied"` // detach requests that changed a group; token replays not counted
	// GroupActivitiesCreated counts the activities groups ran for their own
	// reasons (StartGroupActivity); ActivitiesCreated counts those that
	// detaches and attaches started.
	GroupActivitiesCreated int `json:"GroupActivitiesCreated"`
}

// record counts one answer. The caller holds the emulator's lock.
func (s *Stats) record(action, code string) {
	byCode := s.Calls[action]
	if byCode == nil {
		byCode = make(map[string]int)
		s.Calls[action] = byCode
	}
	byCode[code]++
}

func (s Stats) clone() Stats {
	c := s
	c.Calls = make(map[string]map[string]int, len(s.Calls))
	for action, byCode := range s.Calls {
		c.Calls[action] = maps.Clone(byCode)
	}
	return c
}
