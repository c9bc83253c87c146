package server

// luaMaxSyntaxLevels bounds the nesting of a script's source, like Lua
// 5.1's LUAI_MAXCCALLS ("chunk has too many syntax levels"): gopher-lua's
// parser recurses on the Go stack, whose overflow would be fatal.
const luaMaxSyntaxLevels = 200

// luaNestingLine returns the line where src nests brackets and blocks
// deeper than luaMaxSyntaxLevels, or 0. It is a lexical scan: strings,
// long strings and comments are skipped; "(", "{", "[", function, do,
// then and repeat open a level; ")", "}", "]", end, until and elseif
// (whose then opens one again) close one.
func luaNestingLine(src string) int {
	depth, line := 0, 1
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '\n':
			line++
			i++
		case c == '-' && i+1 < len(src) && src[i+1] == '-':
			i += 2
			if lvl, ok := luaLongBracket(src, i); ok {
				i = luaSkipLong(src, i, lvl, &line)
				continue
			}
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '[':
			if lvl, ok := luaLongBracket(src, i); ok {
				i = luaSkipLong(src, i, lvl, &line)
				continue
			}
			depth++
			i++
		case c == '"' || c == '\'':
			i++
			for i < len(src) && src[i] != c && src[i] != '\n' {
				if src[i] == '\\' && i+1 < len(src) {
					if src[i+1] == '\n' {
						line++
					}
					i++
				}
				i++
			}
			i++
		case c == '(' || c == '{':
			depth++
			i++
		case c == ')' || c == '}' || c == ']':
			depth--
			i++
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(src) && (src[j] == '_' || src[j] >= 'a' && src[j] <= 'z' || src[j] >= 'A' && src[j] <= 'Z' || src[j] >= '0' && src[j] <= '9') {
				j++
			}
			switch src[i:j] {
			case "function", "do", "then", "repeat":
				depth++
			case "end", "until", "elseif":
				depth--
			}
			i = j
		default:
			i++
		}
		if depth > luaMaxSyntaxLevels {
			return line
		}
	}
	return 0
}

// luaLongBracket reports whether src[i:] opens a long bracket [[ or [==[
// and its level.
func luaLongBracket(src string, i int) (int, bool) {
	if i >= len(src) || src[i] != '[' {
		return 0, false
	}
	j := i + 1
	for j < len(src) && src[j] == '=' {
		j++
	}
	if j < len(src) && src[j] == '[' {
		return j - i - 1, true
	}
	return 0, false
}

// luaSkipLong skips a long string or comment opened at src[i], counting
// lines; it returns the offset after its closing bracket (or the end).
func luaSkipLong(src string, i, lvl int, line *int) int {
	i += lvl + 2
	for i < len(src) {
		if src[i] == '\n' {
			*line++
		}
		if src[i] == ']' {
			j := i + 1
			for j < len(src) && src[j] == '=' {
				j++
			}
			if j-i-1 == lvl && j < len(src) && src[j] == ']' {
				return j + 1
			}
		}
		i++
	}
	return i
}
