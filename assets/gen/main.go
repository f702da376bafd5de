// Command gen draws the icons of tokentray into the assets folder: one tray
// icon per overall state and the app icon. Run it with `go generate ./assets`;
// the PNGs are committed, so a build never runs it.
package main

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
)

// icon is one file to draw: a disc in its colour with a white token ring.
type icon struct {
	name string
	size int
	fill color.NRGBA
}

var icons = []icon{
	{"icon.png", 256, color.NRGBA{0x1f, 0x6f, 0xeb, 0xff}},          // the app icon: blue
	{"tray-ok.png", 64, color.NRGBA{0x2e, 0xa0, 0x43, 0xff}},        // all good: green
	{"tray-expiring.png", 64, color.NRGBA{0xe3, 0x9b, 0x0b, 0xff}},  // expiring soon: amber
	{"tray-attention.png", 64, color.NRGBA{0xd1, 0x24, 0x2f, 0xff}}, // needs attention: red
	{"tray-empty.png", 64, color.NRGBA{0x8c, 0x95, 0x9f, 0xff}},     // nothing connected: grey
}

func main() {
	dir := "."
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	for _, ic := range icons {
		if err := write(filepath.Join(dir, ic.name), draw(ic)); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
	}
}

// draw paints the icon with 4×4 supersampling so the edges are smooth.
func draw(ic icon) *image.NRGBA {
	const ss = 4
	img := image.NewNRGBA(image.Rect(0, 0, ic.size, ic.size))
	white := color.NRGBA{0xff, 0xff, 0xff, 0xff}
	for y := 0; y < ic.size; y++ {
		for x := 0; x < ic.size; x++ {
			var r, g, b, a float64
			for sy := 0; sy < ss; sy++ {
				for sx := 0; sx < ss; sx++ {
					// position in [-1, 1]
					px := (float64(x)+(float64(sx)+0.5)/ss)/float64(ic.size)*2 - 1
					py := (float64(y)+(float64(sy)+0.5)/ss)/float64(ic.size)*2 - 1
					c, ok := shade(px, py, ic.fill, white)
					if !ok {
						continue
					}
					r, g, b, a = r+float64(c.R), g+float64(c.G), b+float64(c.B), a+1
				}
			}
			if a == 0 {
				continue
			}
			n := float64(ss * ss)
			img.SetNRGBA(x, y, color.NRGBA{uint8(r / a), uint8(g / a), uint8(b / a), uint8(255 * a / n)})
		}
	}
	return img
}

// shade returns the colour at (x, y) in [-1,1]², and false outside the disc:
// a disc, a white ring (the token) and a white key bit through its middle.
func shade(x, y float64, fill, white color.NRGBA) (color.NRGBA, bool) {
	d := math.Hypot(x, y)
	switch {
	case d > 0.96:
		return color.NRGBA{}, false
	case d > 0.50 && d < 0.68:
		return white, true
	case math.Abs(y) < 0.09 && x > -0.50 && x < 0.30:
		return white, true
	case x > 0.10 && x < 0.22 && y > 0 && y < 0.30:
		return white, true
	}
	return fill, true
}

func write(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return f.Close()
}
