package main

import (
	"image/color"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/tokengate/tokengate/tests/bench"
)

// bareOf pairs a wasm scheme with the primitive it is held against.
var bareOf = map[string]string{
	"jwt-eddsa": "ed25519", "jwt-es256": "ecdsa-p256", "jwt-rs256": "rsa-2048", "jwt-eddsa-once": "ed25519",
	"httpsig-ed25519": "ed25519", "httpsig-hmac": "hmac-sha256",
}

// drawChart draws the median per-request cost of every wasm scheme
// (horizontal bars, µs), the bare primitive next to the schemes that
// verify a signature, and the pass-through floor as a vertical line.
func drawChart(path string, res []*result, idx map[string]int) error {
	var names []string
	var wasm, bare plotter.Values
	for _, r := range res {
		if r.c.Group != bench.GroupWasm {
			continue
		}
		names = append(names, r.c.Scheme)
		wasm = append(wasm, median(r.ns)/1e3)
		v := 0.0
		if b, ok := bareOf[r.c.Scheme]; ok {
			v = median(res[idx["bare/"+b]].ns) / 1e3
		}
		bare = append(bare, v)
	}
	p := plot.New()
	p.Title.Text = "tokengate: per-request cost in wazero (median)"
	p.X.Label.Text = "µs per request (whole stream in hostsim)"
	w := vg.Points(7)
	wb, err := plotter.NewBarChart(wasm, w)
	if err != nil {
		return err
	}
	wb.Horizontal, wb.Color, wb.Offset = true, color.RGBA{R: 40, G: 100, B: 200, A: 255}, w/2
	bb, err := plotter.NewBarChart(bare, w)
	if err != nil {
		return err
	}
	bb.Horizontal, bb.Color, bb.Offset = true, color.RGBA{R: 230, G: 140, B: 30, A: 255}, -w/2
	floor := median(res[idx["wasm/floor"]].ns) / 1e3
	fl, err := plotter.NewLine(plotter.XYs{{X: floor, Y: -0.5}, {X: floor, Y: float64(len(names)) - 0.5}})
	if err != nil {
		return err
	}
	fl.Color, fl.Dashes = color.RGBA{R: 200, A: 255}, []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(wb, bb, fl, plotter.NewGrid())
	p.Legend.Add("tokengate.wasm", wb)
	p.Legend.Add("bare primitive, same runtime", bb)
	p.Legend.Add("pass-through floor", fl)
	p.Legend.Top = true
	p.Legend.Left = false
	for i, n := range names {
		names[i] = strings.ReplaceAll(n, "-", " ")
	}
	p.NominalY(names...)
	return p.Save(8*vg.Inch, 6*vg.Inch, path)
}
