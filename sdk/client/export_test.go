package client

// SetWriteWaits makes f run when a Write starts waiting for the
// connection, until the returned function restores the default.
func SetWriteWaits(f func()) (restore func()) {
	old := writeWaits
	writeWaits = f
	return func() { writeWaits = old }
}
