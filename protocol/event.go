package protocol

import (
	"errors"
	"fmt"
	"strings"
)

// Event is one of Node's http.Server events that hostd hands to plugins.
// It is the one name of an event everywhere: a route's events in the
// configuration, the router, the byte of a RequestHead on the data plane,
// the names a plugin announces in ConfigureResponse.events, and the SDK's
// dispatch. Its values are the wire encoding: do not renumber them.
type Event uint8

// The events, in RequestHead.Event. The zero Event is not an event.
const (
	EventRequest          Event = iota + 1 // "request"
	EventCheckContinue                     // "checkContinue"
	EventCheckExpectation                  // "checkExpectation"
	EventUpgrade                           // "upgrade"
	EventConnect                           // "connect"
	EventClientError                       // "clientError"
	EventDropRequest                       // "dropRequest"
	EventTimeout                           // "timeout"
)

// eventNames are Node's names of the events, as in configuration files and
// ConfigureResponse.events.
var eventNames = [...]string{
	EventRequest:          "request",
	EventCheckContinue:    "checkContinue",
	EventCheckExpectation: "checkExpectation",
	EventUpgrade:          "upgrade",
	EventConnect:          "connect",
	EventClientError:      "clientError",
	EventDropRequest:      "dropRequest",
	EventTimeout:          "timeout",
}

// ErrUnknownEvent is returned, wrapped, by ParseEvent for a name that is
// not an event.
var ErrUnknownEvent = errors.New("protocol: unknown event")

// String returns Node's name of e ("request", "checkContinue", …), or
// "Event(n)" for a value that is not an event.
func (e Event) String() string {
	if e.Valid() {
		return eventNames[e]
	}
	return fmt.Sprintf("Event(%d)", uint8(e))
}

// Valid reports whether e is one of the events.
func (e Event) Valid() bool { return e >= EventRequest && int(e) < len(eventNames) }

// ParseEvent returns the event with Node's name name. Names are case
// sensitive, as in Node.
func ParseEvent(name string) (Event, error) {
	for e := EventRequest; int(e) < len(eventNames); e++ {
		if eventNames[e] == name {
			return e, nil
		}
	}
	return 0, fmt.Errorf("%w %q", ErrUnknownEvent, name)
}

// EventSet is a set of events, one bit per Event: the events a route
// takes, or those a plugin handles. Its eight bits are all in use: a
// ninth event widens it.
type EventSet uint8

// EventSetOf returns the set of the given events.
func EventSetOf(events ...Event) EventSet {
	var s EventSet
	for _, e := range events {
		s |= e.bit()
	}
	return s
}

func (e Event) bit() EventSet {
	if !e.Valid() {
		return 0
	}
	return 1 << (e - 1)
}

// Has reports whether e is in s.
func (s EventSet) Has(e Event) bool { return e.Valid() && s&e.bit() != 0 }

// Events lists the events of s in the order of their values.
func (s EventSet) Events() []Event {
	var list []Event
	for e := EventRequest; int(e) < len(eventNames); e++ {
		if s.Has(e) {
			list = append(list, e)
		}
	}
	return list
}

// Names lists Node's names of the events of s, as ConfigureResponse.events
// carries them.
func (s EventSet) Names() []string {
	var names []string
	for _, e := range s.Events() {
		names = append(names, e.String())
	}
	return names
}

// String returns the names of the events of s joined with "|", as in
// "request|upgrade".
func (s EventSet) String() string { return strings.Join(s.Names(), "|") }
