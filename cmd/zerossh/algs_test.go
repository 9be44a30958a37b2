package main

import (
	"slices"
	"testing"
)

func TestAlgList(t *testing.T) {
	defaults := []string{"a", "b-x", "c"}
	known := []string{"a", "b-x", "c", "d"}
	for _, tc := range []struct {
		spec string
		want []string
	}{
		{"", []string{"a", "b-x", "c"}},
		{"d", []string{"d"}},
		{"c,a", []string{"c", "a"}},
		{"+d", []string{"a", "b-x", "c", "d"}},
		{"+a", []string{"a", "b-x", "c"}},
		{"-b-x", []string{"a", "c"}},
		{"-b*", []string{"a", "c"}},
		{"^c", []string{"c", "a", "b-x"}},
		{"^d,b-x", []string{"d", "b-x", "a", "c"}},
	} {
		got, err := algList(tc.spec, defaults, known)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("algList(%q) = %v, %v; want %v", tc.spec, got, err, tc.want)
		}
	}
	for _, bad := range []string{"x", "+x", "^x", "-*"} {
		if got, err := algList(bad, defaults, known); err == nil {
			t.Errorf("algList(%q) = %v; want an error", bad, got)
		}
	}
}
