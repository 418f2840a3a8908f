package worker

import (
	"slices"
	"testing"
)

func TestCPUsFor(t *testing.T) {
	four := []int{0, 1, 2, 3}
	for _, tt := range []struct {
		id, n   int
		allowed []int
		want    []int
	}{
		{0, 0, four, nil},
		{1, 1, nil, nil},
		{0, 1, four, []int{0}},
		{1, 1, four, []int{1}},
		{5, 1, four, []int{1}},          // around again
		{1, 2, four, []int{2, 3}},       // consecutive pairs
		{3, 3, four, []int{1, 2, 3}},    // 9, 10, 11 mod 4
		{2, 4, four, []int{0, 1, 2, 3}}, // as many as there are
		{0, 1, []int{2, 5}, []int{2}},   // a cpuset's own numbers
		{1, 1, []int{2, 5}, []int{5}},
	} {
		if got := CPUsFor(tt.id, tt.n, tt.allowed); !slices.Equal(got, tt.want) {
			t.Errorf("CPUsFor(%d, %d, %v) = %v, want %v", tt.id, tt.n, tt.allowed, got, tt.want)
		}
	}
}
