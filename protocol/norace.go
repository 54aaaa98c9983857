//go:build !race

package protocol

func raceReleaseMerge() {}
func raceAcquire()      {}
