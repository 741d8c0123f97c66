package models

import (
	"errors"
	"math"
	"testing"
)

func TestNewByName(t *testing.T) {
	y := make([]float64, 24*10)
	for i := range y {
		y[i] = 100 + 10*math.Sin(2*math.Pi*float64(i)/24) + float64(i%7)*0.1
	}
	for _, name := range ModelNames() {
		f, err := New(name, y, []int{24}, 1)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		fc, err := FitForecast(f, y, Options{Horizon: 24})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(fc.Mean) != 24 || len(fc.Intervals) != 2 || math.IsNaN(fc.Mean[0]) {
			t.Fatalf("%s: %+v", name, fc)
		}
		// a strong daily sine: every model's first step lands near the truth
		want := 100 + 10*math.Sin(2*math.Pi*float64(len(y))/24)
		if math.Abs(fc.Mean[0]-want) > 3 {
			t.Errorf("%s: first step %.2f, want about %.2f", name, fc.Mean[0], want)
		}
	}
	if _, err := New("prophet", y, nil, 1); err == nil {
		t.Error("unknown model accepted")
	}
	var ih *InsufficientHistoryError
	if _, err := New("mstl", y[:30], []int{24}, 1); !errors.As(err, &ih) || ih.Need != 49 {
		t.Errorf("short mstl: %v", err)
	}
}
