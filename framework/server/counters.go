package server

// BodyBytes returns how many body bytes the response has written (HEAD,
// 204 and 304 bodies, which are dropped, do not count). Read it once the
// response is finished.
func (r *ServerResponse) BodyBytes() int64 {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	return r.m.Written()
}
