package app

import (
	"fmt"
	"image/color"
	"math"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// luminance is a colour's relative luminance (WCAG 2.1, "relative
// luminance"), composited over bg when it is translucent.
func luminance(c, bg color.Color) float64 {
	r, g, b, a := c.RGBA()
	br, bgG, bb, _ := bg.RGBA()
	mix := func(x, y uint32) float64 {
		return (float64(x) + float64(y)*(1-float64(a)/0xffff)) / 0xffff
	}
	lin := func(v float64) float64 {
		if v <= 0.04045 {
			return v / 12.92
		}
		return math.Pow((v+0.055)/1.055, 2.4)
	}
	// RGBA() is premultiplied: x already holds x*a.
	return 0.2126*lin(mix(r, br)) + 0.7152*lin(mix(g, bgG)) + 0.0722*lin(mix(b, bb))
}

// contrast is the WCAG contrast ratio of text on bg.
func contrast(text, bg color.Color) float64 {
	lt, lb := luminance(text, bg), luminance(bg, color.White)
	if lt < lb {
		lt, lb = lb, lt
	}
	return (lt + 0.05) / (lb + 0.05)
}

func TestContrastOfAKnownPair(t *testing.T) {
	if got := contrast(color.Black, color.White); math.Abs(got-21) > 0.01 {
		t.Fatalf("contrast(black, white) = %.2f, want 21", got)
	}
	if got := contrast(color.NRGBA{0x76, 0x76, 0x76, 0xff}, color.White); math.Abs(got-4.54) > 0.01 {
		t.Fatalf("contrast(#767676, white) = %.2f, want 4.54", got)
	}
}

func TestThemeContrast(t *testing.T) {
	// Every text colour the window uses, on every background it sits on.
	texts := []fyne.ThemeColorName{
		theme.ColorNameForeground, theme.ColorNameDisabled, theme.ColorNamePlaceHolder, theme.ColorNamePrimary,
		theme.ColorNameError, theme.ColorNameWarning, theme.ColorNameSuccess,
	}
	backgrounds := []fyne.ThemeColorName{
		theme.ColorNameBackground, theme.ColorNameOverlayBackground, theme.ColorNameInputBackground,
		theme.ColorNameMenuBackground, theme.ColorNameHeaderBackground,
	}
	// Text on a filled button or badge.
	onFill := map[fyne.ThemeColorName]fyne.ThemeColorName{
		theme.ColorNameForegroundOnPrimary: theme.ColorNamePrimary,
		theme.ColorNameForegroundOnError:   theme.ColorNameError,
		theme.ColorNameForegroundOnSuccess: theme.ColorNameSuccess,
		theme.ColorNameForegroundOnWarning: theme.ColorNameWarning,
		theme.ColorNameForeground:          theme.ColorNameButton,
	}
	for _, choice := range []string{appearanceLight, appearanceDark} {
		th := themeFor(choice)
		v := theme.VariantLight
		if choice == appearanceDark {
			v = theme.VariantDark
		}
		check := func(text, bg fyne.ThemeColorName) {
			t.Run(fmt.Sprintf("%s/%s on %s", choice, text, bg), func(t *testing.T) {
				b := th.Color(bg, v)
				if _, _, _, a := b.RGBA(); a != 0xffff {
					b = compositeOver(b, th.Color(theme.ColorNameBackground, v))
				}
				if got := contrast(th.Color(text, v), b); got < 4.5 {
					t.Errorf("contrast of %s on %s in the %s theme = %.2f:1, want at least 4.5:1", text, bg, choice, got)
				}
			})
		}
		for _, text := range texts {
			for _, bg := range backgrounds {
				check(text, bg)
			}
		}
		for text, bg := range onFill {
			check(text, bg)
		}
	}
}

// compositeOver draws a translucent c over an opaque bg.
func compositeOver(c, bg color.Color) color.Color {
	r, g, b, a := c.RGBA()
	br, bgG, bb, _ := bg.RGBA()
	k := 1 - float64(a)/0xffff
	f := func(x, y uint32) uint8 { return uint8((float64(x) + float64(y)*k) / 0x101) }
	return color.NRGBA{f(r, br), f(g, bgG), f(b, bb), 0xff}
}

// The check above must be able to fail: Fyne's own default theme falls short
// where the issue measured it (help text 1.27:1 on white).
func TestContrastCatchesFynesDefaultTheme(t *testing.T) {
	d := theme.DefaultTheme()
	if got := contrast(d.Color(theme.ColorNameDisabled, theme.VariantLight), d.Color(theme.ColorNameBackground, theme.VariantLight)); got >= 4.5 {
		t.Fatalf("Fyne's light help text measures %.2f:1; the contrast check would pass anything", got)
	}
}

func TestAppearanceChoice(t *testing.T) {
	u, _ := newTestUI(t, nil)
	u.opts.ConfigPath = t.TempDir() + "/config.toml"
	s := u.win.settings
	if s.appearance.Selected != "System" {
		t.Fatalf("appearance at start = %q, want System", s.appearance.Selected)
	}
	s.appearance.SetSelected("Dark")
	if got := u.app.Settings().Theme().Color(theme.ColorNameBackground, theme.VariantLight); got != theme.DefaultTheme().Color(theme.ColorNameBackground, theme.VariantDark) {
		t.Fatalf("after Dark the background is %v, want the dark one whatever the system says", got)
	}
	if got := u.loadAppearance(); got != appearanceDark {
		t.Fatalf("stored appearance = %q, want dark", got)
	}
	s.appearance.SetSelected("Light")
	if got := u.app.Settings().Theme().Color(theme.ColorNameBackground, theme.VariantDark); got != theme.DefaultTheme().Color(theme.ColorNameBackground, theme.VariantLight) {
		t.Fatalf("after Light the background is %v", got)
	}
	s.appearance.SetSelected("System")
	if got := u.app.Settings().Theme().Color(theme.ColorNameBackground, theme.VariantDark); got != theme.DefaultTheme().Color(theme.ColorNameBackground, theme.VariantDark) {
		t.Fatalf("after System the theme does not follow the variant asked")
	}
}
