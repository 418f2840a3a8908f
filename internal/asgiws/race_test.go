//go:build race

package asgiws

// raceEnabled: the race detector grows the stacks, and TestIdleMemory does
// not hold them to its bounds.
const raceEnabled = true
