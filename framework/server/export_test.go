package server

// OnCloseWatch has f told, from the watch's goroutine, when a close watch
// of srv parks on its socket ("parked") and when it sees the client's next
// request rather than a departure ("data").
func OnCloseWatch(srv *Server, f func(event string)) { srv.sweeper.onWatch.Store(&f) }
