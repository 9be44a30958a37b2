//go:build !race

package zerossh

const raceEnabled = false
