//go:build !race

package server

const replRaceEnabled = false
