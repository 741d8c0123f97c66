package influx

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/seed-f1b503aa/foresight/engine"
)

func TestAppendLine(t *testing.T) {
	ts := time.Date(2026, 10, 1, 0, 0, 0, 5, time.UTC)
	cases := []struct {
		p    engine.Point
		want string
	}{
		{engine.Point{Measurement: "cpu", Fields: map[string]float64{"usage": 1}, Time: ts}, "cpu usage=1 1790812800000000005"},
		{engine.Point{Measurement: "disk", Tags: map[string]string{"path": "/data", "host": "db-01"}, Fields: map[string]float64{"used": 1.5, "total": 1e21}, Time: ts},
			"disk,host=db-01,path=/data total=1e+21,used=1.5 1790812800000000005"},
		{engine.Point{Measurement: "m x,y=z", Tags: map[string]string{"k=1, 2": "comma, space=eq"}, Fields: map[string]float64{"f x=,": -0.25}, Time: ts},
			`m\ x\,y=z,k\=1\,\ 2=comma\,\ space\=eq f\ x\=\,=-0.25 1790812800000000005`},
		{engine.Point{Measurement: `a\b`, Tags: map[string]string{"h": `quote"d it's \x`}, Fields: map[string]float64{"f": 0}, Time: ts},
			`a\b,h=quote"d\ it's\ \x f=0 1790812800000000005`},
		{engine.Point{Measurement: "m", Tags: map[string]string{"h": "tab\there"}, Fields: map[string]float64{"f": 1}, Time: time.Unix(-1, 0)},
			"m,h=tab\there f=1 -1000000000"},
	}
	for _, c := range cases {
		if err := validatePoint(0, c.p); err != nil {
			t.Fatalf("%+v: %v", c.p, err)
		}
		if got := string(appendLine(nil, c.p)); got != c.want {
			t.Errorf("line:\n got %s\nwant %s", got, c.want)
		}
	}
}

func TestValidatePoint(t *testing.T) {
	ok := engine.Point{Measurement: "m", Tags: map[string]string{"host": "a"}, Fields: map[string]float64{"f": 1}, Time: time.Unix(0, 0)}
	mod := func(f func(p *engine.Point)) engine.Point {
		p := ok
		p.Tags = map[string]string{"host": "a"}
		p.Fields = map[string]float64{"f": 1}
		f(&p)
		return p
	}
	bad := map[string]engine.Point{
		"empty measurement":    mod(func(p *engine.Point) { p.Measurement = "" }),
		"comment measurement":  mod(func(p *engine.Point) { p.Measurement = "#m" }),
		"newline measurement":  mod(func(p *engine.Point) { p.Measurement = "a\nb" }),
		"trailing backslash m": mod(func(p *engine.Point) { p.Measurement = `m\` }),
		"newline tag value":    mod(func(p *engine.Point) { p.Tags["host"] = "a\nb" }),
		"cr tag value":         mod(func(p *engine.Point) { p.Tags["host"] = "a\rb" }),
		"trailing backslash v": mod(func(p *engine.Point) { p.Tags["host"] = `a\` }),
		"empty tag value":      mod(func(p *engine.Point) { p.Tags["host"] = "" }),
		"empty tag key":        mod(func(p *engine.Point) { p.Tags[""] = "x" }),
		"invalid utf8":         mod(func(p *engine.Point) { p.Tags["host"] = "\xff" }),
		"reserved _field":      mod(func(p *engine.Point) { p.Tags["_field"] = "x" }),
		"reserved _start":      mod(func(p *engine.Point) { p.Tags["_start"] = "x" }),
		"reserved table":       mod(func(p *engine.Point) { p.Tags["table"] = "x" }),
		"reserved result":      mod(func(p *engine.Point) { p.Tags["result"] = "x" }),
		"reserved time tag":    mod(func(p *engine.Point) { p.Tags["time"] = "x" }),
		"reserved dollar":      mod(func(p *engine.Point) { p.Tags["$"] = "x" }),
		"no fields":            mod(func(p *engine.Point) { p.Fields = nil }),
		"time field":           mod(func(p *engine.Point) { p.Fields = map[string]float64{"time": 1} }),
		"empty field key":      mod(func(p *engine.Point) { p.Fields = map[string]float64{"": 1} }),
		"newline field key":    mod(func(p *engine.Point) { p.Fields = map[string]float64{"a\nb": 1} }),
		"NaN":                  mod(func(p *engine.Point) { p.Fields["f"] = math.NaN() }),
		"+Inf":                 mod(func(p *engine.Point) { p.Fields["f"] = math.Inf(1) }),
		"zero time":            mod(func(p *engine.Point) { p.Time = time.Time{} }),
		"year 2300":            mod(func(p *engine.Point) { p.Time = time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC) }),
		"huge key":             mod(func(p *engine.Point) { p.Tags["host"] = strings.Repeat("x", 70000) }),
	}
	for name, p := range bad {
		err := validatePoint(3, p)
		var u interface{ Unrepresentable() bool }
		if !errors.Is(err, ErrUnrepresentable) || !errors.As(err, &u) || !u.Unrepresentable() {
			t.Errorf("%s: %v, want an unrepresentable error", name, err)
		} else if !strings.HasPrefix(err.Error(), "point 3: ") {
			t.Errorf("%s: error %q does not name the point", name, err)
		}
	}
	if err := validatePoint(0, ok); err != nil {
		t.Fatal(err)
	}
	// encodePoints is all or nothing
	lines, err := encodePoints([]engine.Point{ok, bad["NaN"]})
	if err == nil || lines != nil {
		t.Fatalf("encodePoints with a bad point: %v %v", lines, err)
	}
}
