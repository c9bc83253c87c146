//go:build !race

package server

const persistRaceEnabled = false
