// verify_log checks a marketplace's transparency log with Go's reference
// implementation of the Go checksum database's log (golang.org/x/mod/sumdb:
// note for signed notes, tlog for RFC 6962 proofs and tiles), which the C2SP
// specifications come from: an implementation that is not the marketplace's.
//
// Run by crates/server/tests/log_reference.rs in GOPATH mode against Debian's
// golang-golang-x-mod-dev:
//
//	verify_log serve BASE VKEY [RECEIPT_PATH...]
//	    the checkpoint's signature; every leaf's inclusion proved from the
//	    tiles (each tile checked against the checkpoint's root as it is
//	    read); the entry bundles against the leaves; every smaller tree's
//	    consistency proof from the JSON API; each receipt (a URL path).
//	verify_log note VKEY FILE
//	    a checkpoint note's signature only.
//	verify_log receipt VKEY FILE
//	    an offline receipt (C2SP tlog-proof) with the leaf in its extra line.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "verify_log: "+format+"\n", args...)
	os.Exit(1)
}

func get(url string) []byte {
	resp, err := http.Get(url)
	if err != nil {
		fail("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		fail("GET %s: %d %v %s", url, resp.StatusCode, err, body)
	}
	return body
}

// openCheckpoint verifies a C2SP checkpoint note and returns its tree.
func openCheckpoint(msg []byte, vkey string) (string, tlog.Tree) {
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		fail("verifier key: %v", err)
	}
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		fail("checkpoint signature: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 || lines[0] != verifier.Name() {
		fail("checkpoint body: %q", n.Text)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fail("checkpoint size: %v", err)
	}
	hash, err := tlog.ParseHash(lines[2])
	if err != nil {
		fail("checkpoint hash: %v", err)
	}
	return lines[0], tlog.Tree{N: size, Hash: hash}
}

// tiles reads C2SP tiles over HTTP: Go's paths carry the height
// (tile/8/L/N, tile/8/data/N); C2SP's do not (tile/L/N, tile/entries/N).
type tiles struct{ base string }

func (t tiles) Height() int { return 8 }

func (t tiles) ReadTiles(ts []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(ts))
	for i, tile := range ts {
		out[i] = get(t.url(tile))
	}
	return out, nil
}

// url is the C2SP URL of a Go tile (L = -1: an entry bundle).
func (t tiles) url(tile tlog.Tile) string {
	path := strings.TrimPrefix(tile.Path(), "tile/8/")
	if strings.HasPrefix(path, "data/") {
		path = "entries/" + strings.TrimPrefix(path, "data/")
	}
	return t.base + "/log/tile/" + path
}

func (t tiles) SaveTiles([]tlog.Tile, [][]byte) {}

func decode(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		fail("base64 %q: %v", s, err)
	}
	return b
}

func hashOf(s string) tlog.Hash {
	var h tlog.Hash
	b := decode(s)
	if len(b) != len(h) {
		fail("hash of %d bytes", len(b))
	}
	copy(h[:], b)
	return h
}

// checkReceipt verifies a C2SP tlog-proof whose extra line holds
// {"leaf": base64}.
func checkReceipt(text []byte, vkey string) int64 {
	head, checkpoint, found := bytes.Cut(text, []byte("\n\n"))
	if !found {
		fail("receipt: no checkpoint")
	}
	lines := strings.Split(string(head), "\n")
	if lines[0] != "c2sp.org/tlog-proof@v1" || !strings.HasPrefix(lines[1], "extra ") {
		fail("receipt header: %q", lines[:2])
	}
	var extra struct {
		Leaf string `json:"leaf"`
	}
	if err := json.Unmarshal(decode(strings.TrimPrefix(lines[1], "extra ")), &extra); err != nil {
		fail("receipt extra: %v", err)
	}
	index, err := strconv.ParseInt(strings.TrimPrefix(lines[2], "index "), 10, 64)
	if err != nil {
		fail("receipt index: %v", err)
	}
	var proof tlog.RecordProof
	for _, line := range lines[3:] {
		proof = append(proof, hashOf(line))
	}
	_, tree := openCheckpoint(checkpoint, vkey)
	leaf := tlog.RecordHash(decode(extra.Leaf))
	if err := tlog.CheckRecord(proof, tree.N, tree.Hash, index, leaf); err != nil {
		fail("receipt inclusion of leaf %d: %v", index, err)
	}
	return index
}

func serve(base, vkey string, receipts []string) {
	origin, tree := openCheckpoint(get(base+"/log/checkpoint"), vkey)
	reader := tlog.TileHashReader(tree, tiles{base})
	if root, err := tlog.TreeHash(tree.N, reader); err != nil || root != tree.Hash {
		fail("tree hash from tiles: %v", err)
	}
	var listed struct{ Leaves []string }
	if err := json.Unmarshal(get(fmt.Sprintf("%s/api/v1/log/leaves?start=0&end=%d", base, tree.N)), &listed); err != nil {
		fail("leaves: %v", err)
	}
	if int64(len(listed.Leaves)) != tree.N {
		fail("%d leaves for a tree of %d", len(listed.Leaves), tree.N)
	}
	var bundle []byte
	for i := int64(0); i < tree.N; i++ {
		if i%256 == 0 {
			width := tree.N - i
			if width > 256 {
				width = 256
			}
			bundle = get(tiles{base}.url(tlog.Tile{H: 8, L: -1, N: i / 256, W: int(width)}))
		}
		leaf := decode(listed.Leaves[i])
		size := int(binary.BigEndian.Uint16(bundle))
		if !bytes.Equal(bundle[2:2+size], leaf) {
			fail("entry bundle leaf %d differs", i)
		}
		bundle = bundle[2+size:]
		proof, err := tlog.ProveRecord(tree.N, i, reader)
		if err != nil {
			fail("proof of leaf %d from tiles: %v", i, err)
		}
		if err := tlog.CheckRecord(proof, tree.N, tree.Hash, i, tlog.RecordHash(leaf)); err != nil {
			fail("inclusion of leaf %d: %v", i, err)
		}
	}
	for m := int64(1); m < tree.N; m++ {
		var p struct {
			FirstRootHash string `json:"first_root_hash"`
			Hashes        []string
		}
		if err := json.Unmarshal(get(fmt.Sprintf("%s/api/v1/log/proof/consistency?first=%d", base, m)), &p); err != nil {
			fail("consistency: %v", err)
		}
		var proof tlog.TreeProof
		for _, h := range p.Hashes {
			proof = append(proof, hashOf(h))
		}
		old := hashOf(p.FirstRootHash)
		if err := tlog.CheckTree(proof, tree.N, tree.Hash, m, old); err != nil {
			fail("consistency of %d with %d: %v", m, tree.N, err)
		}
		// The old root agrees with the tiles too.
		if h, err := tlog.TreeHash(m, reader); err != nil || h != old {
			fail("root of %d from tiles: %v", m, err)
		}
	}
	for _, path := range receipts {
		checkReceipt(get(base+path), vkey)
	}
	fmt.Printf("ok %s %d leaves, %d receipts\n", origin, tree.N, len(receipts))
}

func main() {
	if len(os.Args) < 4 {
		fail("usage: verify_log serve BASE VKEY [RECEIPT_PATH...] | note VKEY FILE | receipt VKEY FILE")
	}
	switch os.Args[1] {
	case "serve":
		serve(os.Args[2], os.Args[3], os.Args[4:])
	case "note":
		text, err := os.ReadFile(os.Args[3])
		if err != nil {
			fail("%v", err)
		}
		_, tree := openCheckpoint(text, os.Args[2])
		fmt.Printf("ok %d\n", tree.N)
	case "receipt":
		text, err := os.ReadFile(os.Args[3])
		if err != nil {
			fail("%v", err)
		}
		fmt.Printf("ok %d\n", checkReceipt(text, os.Args[2]))
	default:
		fail("unknown command %s", os.Args[1])
	}
}
