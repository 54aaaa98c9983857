package http1

// StricterReasons lists the reasons of the refusals where the parser is
// deliberately stricter than llhttp; the differential test allows them.
var StricterReasons = stricterReasons

// AppendDateAt exposes appendDateAt, AppendDate at a given time.
var AppendDateAt = appendDateAt
