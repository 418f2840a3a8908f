package marshal

import "bytes"

// Pairs is how DecodeOwned decodes a list whose items are all pairs
// (2-tuples or 2-lists) of bytes, as an ASGI message's "headers" is: one
// allocation for the list, none per pair or per bytes, which alias the
// decoder's one copy of its input as other bytes do.
type Pairs [][2][]byte

// pairs decodes the n items of a list as Pairs, if they all are pairs of
// bytes (or references to such bytes or pairs); ok false, and d as it was,
// if one is not: the list is then decoded as any other.
//
// The pairs and bytes Python flagged for reference are entered in d.refs
// as pointers into the result (an interface holding a pointer costs no
// allocation); deref resolves them for references outside it.
func (d *decoder) pairs(n int) (Pairs, bool) {
	if n == 0 || d.off >= len(d.p) {
		return nil, false
	}
	switch d.p[d.off] &^ flagRef {
	case typeSmallTuple, typeTuple, typeList, typeRef:
	default:
		return nil, false // not worth the allocation
	}
	off, nrefs := d.off, len(d.refs)
	out := make(Pairs, n)
	for i := range out {
		if !d.pair(&out[i]) {
			clear(d.refs[nrefs:])
			d.off, d.refs = off, d.refs[:nrefs]
			return nil, false
		}
	}
	return out, true
}

// pair decodes one item of pairs into p.
func (d *decoder) pair(p *[2][]byte) bool {
	code, err := d.u8()
	if err != nil {
		return false
	}
	if code&flagRef != 0 {
		d.refs = append(d.refs, p)
	}
	switch byte(code) &^ flagRef {
	case typeSmallTuple:
		if n, err := d.u8(); err != nil || n != 2 {
			return false
		}
	case typeTuple, typeList:
		if n, err := d.u32(); err != nil || n != 2 {
			return false
		}
	case typeRef:
		v, ok := d.ref()
		if q, isPair := v.(*[2][]byte); ok && isPair && q != p {
			*p = *q
			return true
		}
		return false
	default:
		return false
	}
	for i := range p {
		b, ok := d.pairBytes(&p[i])
		if !ok {
			return false
		}
		p[i] = b
	}
	return true
}

// pairBytes decodes one bytes of a pair, to be stored at dst.
func (d *decoder) pairBytes(dst *[]byte) ([]byte, bool) {
	code, err := d.u8()
	if err != nil {
		return nil, false
	}
	switch byte(code) {
	case typeBytes, typeBytes | flagRef:
	case typeRef:
		v, ok := d.ref()
		switch v := v.(type) {
		case []byte:
			return v, ok
		case *[]byte:
			return *v, ok
		}
		return nil, false
	default:
		return nil, false
	}
	if code&flagRef != 0 {
		d.refs = append(d.refs, dst)
	}
	n, err := d.u32()
	if err != nil {
		return nil, false
	}
	if !d.copied {
		d.p, d.copied = bytes.Clone(d.p), true
	}
	b, err := d.take(n)
	return b, err == nil
}

// ref reads a reference's index and returns what it refers to.
func (d *decoder) ref() (any, bool) {
	n, err := d.u32()
	if err != nil || n >= len(d.refs) || d.refs[n] == nil {
		return nil, false
	}
	return d.refs[n], true
}

// deref is what a reference to v stands for outside pairs: the pairs and
// bytes pairs entered as pointers (and the int firstInt did), as the
// values they point to.
func deref(v any) any {
	switch v := v.(type) {
	case *[2][]byte:
		return []any{v[0], v[1]}
	case *[]byte:
		return *v
	case *int64:
		return *v
	}
	return v
}
