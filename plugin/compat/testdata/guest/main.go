// Command guest is the differential test guest for package compat: a Go
// reactor (GOOS=wasip1, -buildmode=c-shared) that allocates, retains and
// frees memory, forces GC cycles and prints through fmt, so the runtime's
// poller and sleep paths (poll_oneoff, sched_yield) and os start-up
// (fd_fdstat_get, fd_fdstat_set_flags) are all linked and reachable.
package main

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"sort"
)

var retained [][]byte

// work allocates n blocks, keeps every third one, collects garbage and
// returns a checksum of what it kept. Output goes to stdout so the
// differential test can compare it.
//
//go:wasmexport work
func work(n int32) int64 {
	m := map[int]string{}
	for i := 0; i < int(n); i++ {
		b := make([]byte, 512+i%2048)
		binary.LittleEndian.PutUint32(b, uint32(i))
		if i%3 == 0 {
			retained = append(retained, b)
		}
		m[i%97] = fmt.Sprintf("k%d", i)
	}
	runtime.GC()
	if len(retained) > 4096 {
		retained = retained[len(retained)/2:] // release memory for the scavenger
		runtime.GC()
	}
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	h := sha256.New()
	for _, b := range retained {
		h.Write(b[:4])
	}
	for _, k := range keys {
		h.Write([]byte(m[k]))
	}
	sum := h.Sum(nil)
	fmt.Fprintf(os.Stdout, "work n=%d retained=%d keys=%d sum=%x\n", n, len(retained), len(keys), sum[:8])
	return int64(binary.LittleEndian.Uint64(sum))
}

func main() {}
