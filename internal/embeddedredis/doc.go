// Package embeddedredis runs an in-process Redis (miniredis) for the worker's
// --demo mode and for tests on a machine without redis-server.
//
// miniredis only expires keys when its clock is moved, and asynq and the group
// lease rely on expiry, so the server here moves that clock with real time.
package embeddedredis
