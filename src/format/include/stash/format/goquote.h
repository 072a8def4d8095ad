// Go's strconv.Quote / strconv.Unquote for double-quoted strings, byte-exact.
//
// restic stores a node's name as strconv.Quote(name) without the outer quotes
// (then JSON-encodes that string again), so names with arbitrary bytes survive
// JSON. Tree ids are hashes of the JSON bytes, so the escaping must match Go
// 1.19 (restic 0.14's toolchain, Unicode 13 tables) exactly.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "stash/core/result.h"

namespace stash::format {

// strconv.Quote(s) without the surrounding double quotes: `"` and `\`
// backslashed; \a\b\f\n\r\t\v short; other control bytes, DEL and invalid UTF-8
// bytes as \xNN; runes that are not printable (GoIsPrint) as \uXXXX or
// \UXXXXXXXX; everything else raw UTF-8.
std::string GoQuote(std::string_view s);

// strconv.Unquote(`"` + s + `"`): the inverse of GoQuote. Accepts every
// escape Go accepts (\xNN, \NNN octal, \uXXXX, \UXXXXXXXX, the short ones);
// an unescaped `"`, a newline, an unknown escape or an invalid code point is
// kInvalid.
Result<std::string> GoUnquote(std::string_view s);

// Go's strconv.IsPrint for go1.19 (Unicode 13): letters, marks, numbers,
// punctuation, symbols and the ASCII space.
bool GoIsPrint(char32_t rune);

// Decodes one rune from the front of `s` as Go's utf8.DecodeRuneInString:
// returns the rune and sets *width; invalid or truncated sequences, surrogates
// and overlong forms give U+FFFD with *width == 1. `s` must not be empty.
char32_t GoDecodeRune(std::string_view s, size_t* width);

// Go's utf8.ValidString: no invalid sequences, surrogates or overlong forms.
bool GoValidUtf8(std::string_view s);

// Appends the UTF-8 encoding of a valid rune.
void AppendUtf8(std::string* out, char32_t rune);

}  // namespace stash::format
