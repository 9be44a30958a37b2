//go:build race

package zerossh

const raceEnabled = true
