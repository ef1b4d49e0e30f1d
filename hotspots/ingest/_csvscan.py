"""Byte-level CSV kernels (private).

These numba kernels work on one *block* of a CSV file held as a ``uint8``
array. Everything here takes and returns plain numpy arrays; no pandas, no I/O.

Records and lines
-----------------
A *physical line* ends at a line feed (LF), a CR LF pair, or a lone carriage
return (CR: old Mac and some exporters), as Python's universal newlines and
pandas do. A *record* is one physical line, except that a line break inside
a properly quoted field (a ``"`` at the very start of a field, RFC 4180) does
not end the record: the record then spans several physical lines and keeps
the line breaks inside the field.

A quote that does not close is bounded, so it can never swallow the rest of a
file: a quoted field may cross at most ``max_lines`` line breaks
(:data:`MAX_RECORD_LINES` by default), and a quoted field that crosses a line
break must be followed by a comma or a line break. Otherwise the opening quote
is taken as a stray: the record is just the physical line holding it, which
:func:`_split_fields` then reports as ``LINE_BAD_QUOTE``, and reading resumes
on the next physical line. The decision depends only on the bytes up to
``max_lines`` lines ahead, so cutting a file into blocks at record boundaries
(see :func:`_record_spans` with ``eof=False``) gives the same records as
reading it whole.
"""

from __future__ import annotations

import numba as nb
import numpy as np

COMMA = 44
QUOTE = 34
SPACE = 32
TAB = 9
CR = 13
LF = 10
NUL = 0

#: Line breaks a quoted field may hold before its opening quote is taken as a stray.
MAX_RECORD_LINES = 100

# line status codes returned by ``_split_fields``
LINE_OK = 0
LINE_BAD_QUOTE = 1
LINE_BLANK = 2

# number status codes returned by ``_parse_floats``
NUM_OK = 0
NUM_EMPTY = 1
NUM_INVALID = 2
NUM_SLOW = 3  # syntactically valid but outside the exact fast path

# indices of the line-terminator counts returned by ``_record_spans``
TERM_LF = 0
TERM_CRLF = 1
TERM_CR = 2

_POW10 = np.array([10.0**i for i in range(23)], dtype=np.float64)

# byte classes for the record scanners: a table lookup keeps the common case (an ordinary byte,
# spaces included) on one well-predicted branch
_ORDINARY = 0
_IS_LF = 1
_IS_CR_OR_QUOTE = 2
_IS_NUL = 3
_CLASS = np.zeros(256, dtype=np.uint8)
_CLASS[LF] = _IS_LF
_CLASS[CR] = _IS_CR_OR_QUOTE
_CLASS[QUOTE] = _IS_CR_OR_QUOTE
_CLASS[NUL] = _IS_NUL


@nb.njit(cache=True, nogil=True)
def _count_lf(buf):
    n = 0
    for i in range(len(buf)):
        n += buf[i] == LF
    return n


@nb.njit(cache=True, nogil=True)
def _count_lines(buf):
    """Number of physical lines: LF, CR LF and lone CR each end one, plus a last line without one.

    Line breaks inside quoted fields count too: this is the number of lines a
    text editor shows, which is what line numbers refer to.
    """
    n = 0
    last = len(buf) - 1
    for i in range(len(buf)):
        c = buf[i]
        if c == LF:
            n += 1
        elif c == CR and (i == last or buf[i + 1] != LF):
            n += 1
    if len(buf) and buf[last] != LF and buf[last] != CR:
        n += 1
    return n


@nb.njit(cache=True, nogil=True)
def _plain_spans(buf, nlf, eof, cls):
    """Fast path of :func:`_record_spans` for blocks with no quote and no lone CR.

    Returns ``k`` records in the first ``k`` places of ``starts, ends``, the
    CR LF count and the NUL flag; ``k = -1`` when the block needs the full
    state machine (a quote or a lone CR was seen).
    """
    n = len(buf)
    starts = np.empty(nlf + 1, dtype=np.int64)
    ends = np.empty(nlf + 1, dtype=np.int64)
    k = 0
    s = 0
    crlf = 0
    nul = False
    for i in range(n):
        t = cls[buf[i]]
        if t == _ORDINARY:
            continue
        if t == _IS_LF:
            e = i
            if e > s and buf[e - 1] == CR:
                e -= 1
                crlf += 1
            starts[k] = s
            ends[k] = e
            k += 1
            s = i + 1
        elif t == _IS_NUL:
            nul = True
        elif buf[i] == QUOTE or i + 1 >= n or buf[i + 1] != LF:  # a quote, or a CR not in a CR LF
            return starts, ends, -1, 0, nul
    if s < n and eof:
        starts[k] = s
        ends[k] = n
        k += 1
    return starts, ends, k, crlf, nul


@nb.njit(cache=True, nogil=True, inline="always")
def _quoted_field_end(buf, q, eof, max_lines, cls):
    """Scan a quoted field opened at ``q``: ``(state, j, crossed, nul)``.

    ``state`` is 1 when it closes at ``j``, 2 when the quote is a stray
    (unclosed within ``max_lines`` line breaks, or closed after a line break
    but not followed by a delimiter), 3 when the buffer ends before that can
    be decided (only when ``eof`` is false). ``crossed`` counts line breaks,
    ``nul`` whether a NUL byte was passed.
    """
    n = len(buf)
    j = q + 1
    crossed = 0
    nul = False
    while j < n:
        t = cls[buf[j]]
        if t == _ORDINARY:
            j += 1
            continue
        b = buf[j]
        if b == QUOTE:
            if j + 1 < n:
                if buf[j + 1] == QUOTE:
                    j += 2
                    continue
                if crossed > 0:
                    d = buf[j + 1]
                    if d != COMMA and d != LF and d != CR:
                        return 2, j, crossed, nul
                return 1, j, crossed, nul
            return (1 if eof else 3), j, crossed, nul
        if t == _IS_NUL:
            nul = True
        else:  # LF or CR
            if b == CR and j + 1 < n and buf[j + 1] == LF:
                j += 1
            crossed += 1
            if crossed > max_lines:
                return 2, j, crossed, nul
        j += 1
    return (2 if eof else 3), j, crossed, nul


@nb.njit(cache=True, nogil=True)
def _record_spans(buf, eof, max_lines):
    """Split a buffer into records (see the module docstring), in one pass.

    Parameters
    ----------
    buf : uint8 array
        Starts at a record boundary (the start of a file or just after a
        record's line break).
    eof : bool
        Whether ``buf`` runs to the end of the file. When false, a record
        that might continue past the buffer (no line break yet, an open quote
        that could still close within ``max_lines``, a CR that could be half of
        a CR LF) is left for the next buffer.
    max_lines : int
        Line breaks a quoted field may hold.

    Returns
    -------
    starts, ends : int64 arrays
        Byte span of each record, without its line break (``ends`` is the
        offset of the LF, of the CR of a CR LF, or of a lone CR).
    first_line : int64 array
        Physical line (0-based, from the start of ``buf``) each record starts on.
    consumed : int
        Bytes holding whole records: the next buffer starts here
        (``len(buf)`` when ``eof``).
    lines : int
        Physical lines in ``buf[:consumed]``.
    terms : int64 array of 3
        Records ending in LF, CR LF and lone CR (``TERM_*`` indices).
    nul : bool
        Whether ``buf[:consumed]`` holds a NUL byte (fast path: anywhere in ``buf``).
    """
    nlf = _count_lf(buf)
    # the class table is passed in: numba reads a global array much more slowly inside the loop
    starts, ends, k, crlf, nul = _plain_spans(buf, nlf, eof, _CLASS)
    terms = np.zeros(3, dtype=np.int64)
    if k >= 0:  # no quotes, no lone CR: one record per line
        terms[TERM_CRLF] = crlf
        terms[TERM_LF] = nlf - crlf
        if eof:
            consumed = len(buf)
        elif k:
            consumed = ends[k - 1] + (2 if buf[ends[k - 1]] == CR else 1)
        else:
            consumed = 0
        return starts[:k].copy(), ends[:k].copy(), np.arange(k, dtype=np.int64), consumed, k, terms, nul
    return _record_spans_quoted(buf, eof, max_lines, nlf, _CLASS)


@nb.njit(cache=True, nogil=True)
def _record_spans_quoted(buf, eof, max_lines, nlf, cls):
    """Full state machine of :func:`_record_spans` (quotes or lone CRs present)."""
    n = len(buf)
    ncr = 0
    for i in range(n):
        ncr += buf[i] == CR
    cap = nlf + ncr + 1
    starts = np.empty(cap, dtype=np.int64)
    ends = np.empty(cap, dtype=np.int64)
    first = np.empty(cap, dtype=np.int64)
    terms = np.zeros(3, dtype=np.int64)
    nul = False
    k = 0
    line = 0
    i = 0
    consumed = 0
    while i < n:
        s = i
        e = -1
        stop = False
        inner = 0  # line breaks inside quoted fields of this record
        while i < n:
            c = buf[i]
            if cls[c] == _ORDINARY:
                i += 1
                continue
            if c == LF:
                e = i
                i += 1
                terms[TERM_LF] += 1
                break
            if c == CR:
                if i + 1 < n:
                    e = i
                    if buf[i + 1] == LF:
                        i += 2
                        terms[TERM_CRLF] += 1
                    else:
                        i += 1
                        terms[TERM_CR] += 1
                    break
                if eof:
                    e = i
                    i += 1
                    terms[TERM_CR] += 1
                    break
                stop = True  # maybe half of a CR LF
                break
            if c == QUOTE and (i == s or buf[i - 1] == COMMA):
                state, j, crossed, qnul = _quoted_field_end(buf, i, eof, max_lines, cls)
                if state == 3:
                    stop = True
                    break
                if state == 1:
                    nul = nul or qnul
                    inner += crossed
                    i = j + 1
                    continue
                # a stray quote: the record is the physical line holding it
                while i < n and buf[i] != LF and buf[i] != CR:
                    if buf[i] == NUL:
                        nul = True
                    i += 1
                continue
            if c == NUL:
                nul = True
            i += 1
        if stop:
            break
        if e < 0:  # the buffer ends without a line break
            if not eof:
                break
            e = n
        starts[k] = s
        ends[k] = e
        first[k] = line
        k += 1
        line += 1 + inner
        consumed = i
    if eof:
        consumed = n
    return starts[:k].copy(), ends[:k].copy(), first[:k].copy(), consumed, line, terms, nul


@nb.njit(cache=True, nogil=True)
def _line_spans(buf):
    """Start and end offsets of every *record* in ``buf``, read as a whole file.

    Kept for the partner readers; see :func:`_record_spans` for line numbers.
    Guarantees: ``buf[starts[i]:ends[i]]`` is one record without its line
    break (LF, CR LF or a lone CR); a line break inside a properly quoted
    field does not end a record (so record ``i`` is *not* physical line
    ``i`` when a field holds a line break: use ``first_line`` of
    :func:`_record_spans` for line numbers); a stray quote never joins more
    than its own physical line; a last record without a line break is
    included; no record is returned for the empty text after a final line
    break.
    """
    starts, ends, _, _, _, _, _ = _record_spans(buf, True, MAX_RECORD_LINES)
    return starts, ends


@nb.njit(cache=True, nogil=True)
def _records_with_byte(buf, starts, ends, byte):
    """Whether each record holds ``byte`` (used for NUL bytes, on the rare blocks that have one)."""
    n = len(starts)
    out = np.zeros(n, dtype=np.bool_)
    for i in range(n):
        for p in range(starts[i], ends[i]):
            if buf[p] == byte:
                out[i] = True
                break
    return out


@nb.njit(cache=True, nogil=True)
def _split_fields(buf, starts, ends, ncols):
    """Split each line into fields (RFC 4180 quoting, one line per record).

    Returns ``fstart, fend`` of shape (n, ncols) holding the byte span of each
    field's content (inside the quotes for a quoted field), ``fesc`` (n, ncols)
    set where a quoted field holds doubled quotes, ``nfields`` (n,) the number
    of fields found (may exceed ``ncols``) and ``status`` (n,).
    """
    n = len(starts)
    fstart = np.zeros((n, ncols), dtype=np.int64)
    fend = np.zeros((n, ncols), dtype=np.int64)
    fesc = np.zeros((n, ncols), dtype=np.uint8)
    nfields = np.zeros(n, dtype=np.int32)
    status = np.zeros(n, dtype=np.uint8)
    for i in range(n):
        s = starts[i]
        e = ends[i]
        blank = True
        for p in range(s, e):
            c = buf[p]
            if c != SPACE and c != TAB:
                blank = False
                break
        if blank:
            status[i] = LINE_BLANK
            continue
        pos = s
        k = 0
        while True:
            esc = 0
            if pos < e and buf[pos] == QUOTE:
                j = pos + 1
                closed = False
                while j < e:
                    if buf[j] == QUOTE:
                        if j + 1 < e and buf[j + 1] == QUOTE:
                            esc = 1
                            j += 2
                            continue
                        closed = True
                        break
                    j += 1
                if not closed:
                    status[i] = LINE_BAD_QUOTE
                    break
                fs = pos + 1
                fe = j
                pos = j + 1
                if pos < e and buf[pos] != COMMA:
                    status[i] = LINE_BAD_QUOTE
                    break
            else:
                j = pos
                while j < e and buf[j] != COMMA:
                    j += 1
                fs = pos
                fe = j
                pos = j
            if k < ncols:
                fstart[i, k] = fs
                fend[i, k] = fe
                fesc[i, k] = esc
            k += 1
            if pos >= e:
                break
            pos += 1  # skip the comma; a trailing comma gives a final empty field
            if pos >= e:
                if k < ncols:
                    fstart[i, k] = e
                    fend[i, k] = e
                k += 1
                break
        nfields[i] = k
    return fstart, fend, fesc, nfields, status


@nb.njit(cache=True, nogil=True)
def _strip(buf, s, e):
    while s < e and (buf[s] == SPACE or buf[s] == TAB):
        s += 1
    while e > s and (buf[e - 1] == SPACE or buf[e - 1] == TAB):
        e -= 1
    return s, e


@nb.njit(cache=True, nogil=True, inline="always")
def _hash_span(buf, s, e):
    """64-bit hash of a byte span (FNV-1a, then a splitmix64 finaliser); never 0."""
    h = np.uint64(14695981039346656037)
    for p in range(s, e):
        h = (h ^ np.uint64(buf[p])) * np.uint64(1099511628211)
    h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    h = h ^ (h >> np.uint64(31))
    return h if h != 0 else np.uint64(1)


@nb.njit(cache=True, nogil=True, inline="always")
def _same_span(buf, s, e, s2, e2):
    if e - s != e2 - s2:
        return False
    for q in range(e - s):
        if buf[s + q] != buf[s2 + q]:
            return False
    return True


@nb.njit(cache=True, nogil=True)
def _parse_floats(buf, s_arr, e_arr, pow10):
    """Parse decimal numbers exactly (Clinger's fast path) with a status each.

    Values with more than 15 significant digits or a decimal exponent beyond
    +-22 get ``NUM_SLOW`` and must be parsed by the caller with ``float()``.
    """
    n = len(s_arr)
    out = np.full(n, np.nan)
    st = np.zeros(n, dtype=np.uint8)
    for i in range(n):
        s, e = _strip(buf, s_arr[i], e_arr[i])
        if s == e:
            st[i] = NUM_EMPTY
            continue
        p = s
        neg = False
        if buf[p] == 45 or buf[p] == 43:  # - +
            neg = buf[p] == 45
            p += 1
        mant = 0
        ndig = 0
        nsig = 0
        frac = 0
        seen_dot = False
        ok = True
        while p < e:
            c = buf[p]
            if 48 <= c <= 57:
                ndig += 1
                if nsig > 0 or c != 48:
                    nsig += 1
                if nsig <= 18:
                    mant = mant * 10 + (c - 48)
                    if seen_dot:
                        frac += 1
                elif not seen_dot:
                    frac -= 1  # dropped integer digit: shift the exponent
            elif c == 46 and not seen_dot:  # .
                seen_dot = True
            else:
                break
            p += 1
        if ndig == 0:
            ok = False
        exp = 0
        if ok and p < e and (buf[p] == 101 or buf[p] == 69):  # e E
            p += 1
            eneg = False
            if p < e and (buf[p] == 45 or buf[p] == 43):
                eneg = buf[p] == 45
                p += 1
            nexp = 0
            while p < e and 48 <= buf[p] <= 57:
                if exp < 100000:
                    exp = exp * 10 + (buf[p] - 48)
                nexp += 1
                p += 1
            if nexp == 0:
                ok = False
            if eneg:
                exp = -exp
        if not ok or p != e:
            st[i] = NUM_INVALID
            continue
        e10 = exp - frac
        if nsig > 15 or e10 > 22 or e10 < -22:
            st[i] = NUM_SLOW
            continue
        v = float(mant)
        if e10 >= 0:
            v = v * pow10[e10]
        else:
            v = v / pow10[-e10]
        out[i] = -v if neg else v
    return out, st


@nb.njit(cache=True, nogil=True)
def _parse_months(buf, s_arr, e_arr):
    """Parse ``YYYY-MM`` into months since 1970-01; -1 where invalid."""
    n = len(s_arr)
    out = np.full(n, -1, dtype=np.int64)
    for i in range(n):
        s, e = _strip(buf, s_arr[i], e_arr[i])
        if e - s != 7 or buf[s + 4] != 45:
            continue
        ok = True
        for p in (s, s + 1, s + 2, s + 3, s + 5, s + 6):
            if buf[p] < 48 or buf[p] > 57:
                ok = False
        if not ok:
            continue
        year = (buf[s] - 48) * 1000 + (buf[s + 1] - 48) * 100 + (buf[s + 2] - 48) * 10 + (buf[s + 3] - 48)
        month = (buf[s + 5] - 48) * 10 + (buf[s + 6] - 48)
        if month < 1 or month > 12 or year < 1970:
            continue
        out[i] = (year - 1970) * 12 + month - 1
    return out


@nb.njit(cache=True, nogil=True)
def _hash_fields(buf, s_arr, e_arr):
    """64-bit hash of each stripped field; 0 when empty."""
    n = len(s_arr)
    out = np.zeros(n, dtype=np.uint64)
    for i in range(n):
        s, e = _strip(buf, s_arr[i], e_arr[i])
        if s < e:
            out[i] = _hash_span(buf, s, e)
    return out


@nb.njit(cache=True, nogil=True)
def _gather(buf, s_arr, e_arr, esc, strip):
    """Copy spans of ``buf`` into one contiguous buffer (Arrow string layout).

    Doubled quotes are collapsed where ``esc`` is set; surrounding spaces and
    tabs are removed when ``strip`` is true. Returns ``(offsets int32, data)``.
    """
    n = len(s_arr)
    offsets = np.zeros(n + 1, dtype=np.int32)
    ss = np.empty(n, dtype=np.int64)
    ee = np.empty(n, dtype=np.int64)
    total = 0
    for i in range(n):
        s = s_arr[i]
        e = e_arr[i]
        if strip:
            s, e = _strip(buf, s, e)
        ss[i] = s
        ee[i] = e
        total += e - s
    data = np.empty(total, dtype=np.uint8)
    o = 0
    for i in range(n):
        s = ss[i]
        e = ee[i]
        if esc[i]:
            p = s
            while p < e:
                data[o] = buf[p]
                o += 1
                if buf[p] == QUOTE and p + 1 < e and buf[p + 1] == QUOTE:
                    p += 2
                else:
                    p += 1
        else:
            for p in range(s, e):  # a byte loop beats slice assignment for short strings
                data[o] = buf[p]
                o += 1
        offsets[i + 1] = o
    return offsets, data[:o]


@nb.njit(cache=True, nogil=True)
def _utf8_invalid_lines(buf, starts, ends):
    """Indices of lines that are not valid UTF-8."""
    n = len(starts)
    bad = np.zeros(n, dtype=np.bool_)
    for i in range(n):
        p = starts[i]
        e = ends[i]
        while p < e:
            c = buf[p]
            if c < 0x80:
                p += 1
                continue
            if 0xC2 <= c <= 0xDF:
                need = 1
                lo = 0x80
                hi = 0xBF
            elif 0xE0 <= c <= 0xEF:
                need = 2
                lo = 0xA0 if c == 0xE0 else 0x80
                hi = 0x9F if c == 0xED else 0xBF
            elif 0xF0 <= c <= 0xF4:
                need = 3
                lo = 0x90 if c == 0xF0 else 0x80
                hi = 0x8F if c == 0xF4 else 0xBF
            else:
                bad[i] = True
                break
            if p + need >= e:
                bad[i] = True
                break
            c1 = buf[p + 1]
            if c1 < lo or c1 > hi:
                bad[i] = True
                break
            for q in range(p + 2, p + need + 1):
                if buf[q] < 0x80 or buf[q] > 0xBF:
                    bad[i] = True
                    break
            if bad[i]:
                break
            p += need + 1
    return np.flatnonzero(bad)


@nb.njit(cache=True, nogil=True)
def _strip_spans(buf, s_arr, e_arr):
    """Spans with surrounding spaces and tabs removed."""
    n = len(s_arr)
    s_out = np.empty(n, dtype=np.int64)
    e_out = np.empty(n, dtype=np.int64)
    for i in range(n):
        s_out[i], e_out[i] = _strip(buf, s_arr[i], e_arr[i])
    return s_out, e_out


@nb.njit(cache=True, nogil=True)
def _mix_keys(id_hash, month):
    """Combine an ID hash with a month into one nonzero key; 0 where the ID is empty."""
    n = len(id_hash)
    out = np.zeros(n, dtype=np.uint64)
    for i in range(n):
        h = id_hash[i]
        if h == 0:
            continue
        h = h ^ (np.uint64(month[i] + 1) * np.uint64(0x9E3779B97F4A7C15))
        h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        h = h ^ (h >> np.uint64(31))
        out[i] = h if h != 0 else np.uint64(1)
    return out


@nb.njit(cache=True, nogil=True)
def _dict_encode(buf, s_arr, e_arr):
    """Dictionary-encode byte spans with a growing open-addressing hash table.

    Equal spans get equal codes; codes number the distinct values in order of
    first appearance. Hash hits are confirmed byte by byte, so a hash
    collision can never merge two different values. The table starts small
    and doubles at half load, so low-cardinality columns stay in cache.

    Returns
    -------
    codes : int32 (n,)
    first : int64 (k,) index of the first span holding each code
    """
    n = len(s_arr)
    cap = 1024
    table = np.full(cap, -1, dtype=np.int64)  # code per slot
    code_hash = np.empty(max(n, 1), dtype=np.uint64)
    codes = np.empty(n, dtype=np.int32)
    first = np.empty(max(n, 1), dtype=np.int64)
    k = 0
    prev = -1
    for i in range(n):
        s = s_arr[i]
        e = e_arr[i]
        if prev >= 0:  # police.uk columns often repeat the previous row's value (force, context)
            j = first[prev]
            if _same_span(buf, s, e, s_arr[j], e_arr[j]):
                codes[i] = prev
                continue
        h = _hash_span(buf, s, e)
        mask = np.uint64(cap - 1)
        slot = h & mask
        while True:
            c = table[slot]
            if c < 0:
                table[slot] = k
                code_hash[k] = h
                first[k] = i
                codes[i] = k
                prev = k
                k += 1
                if 2 * k > cap:  # grow and rehash
                    cap *= 2
                    table = np.full(cap, -1, dtype=np.int64)
                    m2 = np.uint64(cap - 1)
                    for c2 in range(k):
                        sl = code_hash[c2] & m2
                        while table[sl] >= 0:
                            sl = (sl + np.uint64(1)) & m2
                        table[sl] = c2
                break
            if code_hash[c] == h:
                j = first[c]
                same = _same_span(buf, s, e, s_arr[j], e_arr[j])
                if same:
                    codes[i] = c
                    prev = c
                    break
            slot = (slot + np.uint64(1)) & mask
    return codes, first[:k]


@nb.njit(cache=True, nogil=True)
def _max_byte(buf):
    """Largest byte value (0 for an empty buffer); >= 0x80 means non-ASCII text."""
    m = 0
    for i in range(len(buf)):
        if buf[i] > m:
            m = buf[i]
    return m


@nb.njit(cache=True, nogil=True)
def _gather_ids(buf, s_arr, e_arr, line_no, prefix):
    """Arrow string layout of IDs: the stripped span, or ``prefix + "#" + line`` where it is empty."""
    n = len(s_arr)
    offsets = np.zeros(n + 1, dtype=np.int64)
    digits = np.empty(20, dtype=np.uint8)
    total = 0
    for i in range(n):
        s, e = _strip(buf, s_arr[i], e_arr[i])
        total += (e - s) if e > s else len(prefix) + 21
    data = np.empty(total, dtype=np.uint8)
    o = 0
    for i in range(n):
        s, e = _strip(buf, s_arr[i], e_arr[i])
        if e > s:
            for p in range(s, e):
                data[o] = buf[p]
                o += 1
        else:
            for p in range(len(prefix)):
                data[o] = prefix[p]
                o += 1
            data[o] = 35  # '#'
            o += 1
            v = line_no[i]
            nd = 0
            while True:
                digits[nd] = 48 + v % 10
                nd += 1
                v //= 10
                if v == 0:
                    break
            for q in range(nd - 1, -1, -1):
                data[o] = digits[q]
                o += 1
        offsets[i + 1] = o
    return offsets, data[:o]
