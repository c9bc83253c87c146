//go:build race

package server

const persistRaceEnabled = true
