package jsonwire

// AppendCompact appends the JSON text v without its insignificant
// whitespace (outside strings), so an embedded payload never puts raw line
// breaks on a line-oriented wire. v must already have been validated
// (SkipValue or Validate); on other input it still never panics, it just
// copies bytes.
func AppendCompact(dst, v []byte) []byte {
	inStr := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if inStr {
			dst = append(dst, c)
			switch c {
			case '\\':
				if i+1 < len(v) {
					i++
					dst = append(dst, v[i])
				}
			case '"':
				inStr = false
			}
			continue
		}
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '"':
			inStr = true
		}
		dst = append(dst, c)
	}
	return dst
}
