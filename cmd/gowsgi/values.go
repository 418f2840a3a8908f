package main

import (
	"fmt"
	"io/fs"
	"math"
	"strconv"
	"strings"
)

// bytesValue is a size in bytes, maybe with a suffix K, M, G or T (powers
// of 1024, with an optional "B" or "iB": 512M, 1GiB, 64KB).
type bytesValue int64

func (b *bytesValue) String() string { return formatBytes(int64(*b)) }

func (b *bytesValue) Set(s string) error {
	v, err := parseBytes(s)
	if err != nil {
		return err
	}
	*b = bytesValue(v)
	return nil
}

// limitValue is a size as bytesValue's, or -1 for no limit.
type limitValue int64

func (l *limitValue) String() string {
	if *l < 0 {
		return "-1"
	}
	return formatBytes(int64(*l))
}

func (l *limitValue) Set(s string) error {
	if strings.TrimSpace(s) == "-1" {
		*l = -1
		return nil
	}
	v, err := parseBytes(s)
	if err != nil {
		return fmt.Errorf("%w, or -1 for no limit", err)
	}
	*l = limitValue(v)
	return nil
}

// parseBytes parses a size: a whole number of bytes, or a number (maybe
// with a fraction) followed by K, M, G or T.
func parseBytes(s string) (int64, error) {
	bad := fmt.Errorf("%q is not a size in bytes (as 1048576, 512K, 64M or 1G)", s)
	u := strings.ToUpper(strings.TrimSpace(s))
	u, iB := strings.CutSuffix(u, "IB")
	if !iB {
		u = strings.TrimSuffix(u, "B")
	}
	shift := 0
	if n := len(u); n > 0 {
		if i := strings.IndexByte("KMGT", u[n-1]); i >= 0 {
			shift, u = 10*(i+1), u[:n-1]
		}
	}
	f, err := strconv.ParseFloat(u, 64)
	v := f * float64(int64(1)<<shift)
	if err != nil || (iB && shift == 0) || f < 0 || math.IsNaN(f) || v >= math.MaxInt64 ||
		(shift == 0 && f != math.Trunc(f)) {
		return 0, bad
	}
	return int64(v), nil
}

// formatBytes writes n with the largest suffix that divides it.
func formatBytes(n int64) string {
	for i := 4; i > 0; i-- {
		if unit := int64(1) << (10 * i); n != 0 && n%unit == 0 {
			return strconv.FormatInt(n/unit, 10) + string("KMGT"[i-1])
		}
	}
	return strconv.FormatInt(n, 10)
}

// boolValue is a flag that needs no value: --h2c, or --h2c=false.
type boolValue bool

func (b *boolValue) String() string   { return strconv.FormatBool(bool(*b)) }
func (b *boolValue) IsBoolFlag() bool { return true }

func (b *boolValue) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("%q is not true or false", s)
	}
	*b = boolValue(v)
	return nil
}

// replaceList is a comma-separated, repeatable list flag with a default
// that its first use replaces. An empty value gives an empty list.
type replaceList struct {
	list []string
	set  bool
}

func (r *replaceList) String() string { return strings.Join(r.list, ",") }

func (r *replaceList) Set(s string) error {
	if !r.set {
		r.list, r.set = nil, true
	}
	return (*listValue)(&r.list).Set(s)
}

// umaskValue is a file mode mask, octal as for umask(1) (022, 0o022),
// or hexadecimal or decimal with 0x or none of a leading 0, as gunicorn's
// --umask.
type umaskValue fs.FileMode

func (u *umaskValue) String() string { return fmt.Sprintf("%#o", fs.FileMode(*u)) }

func (u *umaskValue) Set(s string) error {
	v, err := strconv.ParseUint(s, 0, 32)
	if err != nil || v > 0o777 {
		return fmt.Errorf("%q is not a mask of permission bits, as 0o007 or 022", s)
	}
	*u = umaskValue(v)
	return nil
}
