//go:build !race

package asgiws

const raceEnabled = false
