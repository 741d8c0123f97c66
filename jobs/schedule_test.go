package jobs

import (
	"strings"
	"testing"
	"time"

	"github.com/seed-f1b503aa/foresight/config"
)

func TestScheduleParseNextAndPeriod(t *testing.T) {
	utc := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		spec, tz string
		at       string // an instant, UTC
		next     string // the next activation after it, UTC
		period   time.Duration
	}{
		{"*/15 * * * *", "", "2026-10-29T10:07:30Z", "2026-10-29T10:15:00Z", 15 * time.Minute},
		{"*/15 * * * *", "", "2026-10-29T10:15:00Z", "2026-10-29T10:30:00Z", 15 * time.Minute},
		{"@hourly", "", "2026-10-29T10:07:00Z", "2026-10-29T11:00:00Z", time.Hour},
		{"@every 15m", "", "2026-10-29T10:07:00Z", "2026-10-29T10:22:00Z", 15 * time.Minute},
		{"10 0 * * *", "", "2026-10-29T10:07:00Z", "2026-10-30T00:10:00Z", 24 * time.Hour},
		{"5 * * * *", "", "2026-10-29T10:07:00Z", "2026-10-29T11:05:00Z", time.Hour},
		// 02:00 in Shanghai is 18:00 UTC the day before
		{"0 2 * * *", "Asia/Shanghai", "2026-10-29T10:07:00Z", "2026-10-29T18:00:00Z", 24 * time.Hour},
		// weekdays at 09:00: the gap around a Saturday is Friday to Monday
		{"0 9 * * 1-5", "", "2026-10-31T12:00:00Z", "2026-11-02T09:00:00Z", 72 * time.Hour},
		{"0 9 * * 1-5", "", "2026-10-27T12:00:00Z", "2026-10-28T09:00:00Z", 24 * time.Hour},
		// monthly: October has 31 days
		{"@monthly", "", "2026-10-15T00:00:00Z", "2026-11-01T00:00:00Z", 31 * 24 * time.Hour},
	} {
		s, err := ParseSchedule(tc.spec, tc.tz)
		if err != nil {
			t.Errorf("%q %q: %v", tc.spec, tc.tz, err)
			continue
		}
		at := utc(tc.at)
		if got := s.Next(at); !got.Equal(utc(tc.next)) {
			t.Errorf("%q %q: next after %s = %s, want %s", tc.spec, tc.tz, tc.at, got.UTC().Format(time.RFC3339), tc.next)
		}
		if got := Period(s, at); got != tc.period {
			t.Errorf("%q %q: period at %s = %s, want %s", tc.spec, tc.tz, tc.at, got, tc.period)
		}
	}
	for _, tc := range []struct{ spec, tz, want string }{
		{"", "", "empty schedule"},
		{"* * *", "", "expected exactly 5 fields"},
		{"61 * * * *", "", "end of range (61) above maximum (59)"},
		{"0 0 30 2 *", "", "never fires"},
		{"@sometimes", "", "unrecognized descriptor"},
		{"0 * * * *", "Mars/Olympus", "time zone"},
		{"CRON_TZ=UTC 0 * * * *", "", "give the time zone in tz"},
		{"0 0 * * * *", "", "expected exactly 5 fields"}, // 6 fields (seconds) are not the standard
	} {
		_, err := ParseSchedule(tc.spec, tc.tz)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q %q: error %v, want one mentioning %q", tc.spec, tc.tz, err, tc.want)
		}
	}
}

func TestNewRejectsBadJobs(t *testing.T) {
	st := sqliteState(t)
	ms := demoStore(t)
	good := diskJob("disk")
	for _, tc := range []struct {
		name string
		mod  func(*config.JobSpec)
		want string
	}{
		{"bad schedule", func(j *config.JobSpec) { j.Schedule = "every now and then" }, "schedule"},
		{"bad kind", func(j *config.JobSpec) { j.Kinds = []string{"cpu"} }, `kind "cpu"`},
		{"no kinds", func(j *config.JobSpec) { j.Kinds = nil }, "at least one of"},
		{"bad type", func(j *config.JobSpec) { j.Type = "report" }, `type "report"`},
		{"bad model", func(j *config.JobSpec) { *j = cpuForecastJob("f", "prophet") }, `model "prophet"`},
		{"bad level", func(j *config.JobSpec) { *j = cpuForecastJob("f", "auto"); j.Forecast.Levels = []float64{100} }, "level"},
		{"no field", func(j *config.JobSpec) { *j = cpuForecastJob("f", "auto"); j.Forecast.Field = "" }, "measurement and field"},
	} {
		spec := good
		tc.mod(&spec)
		_, err := New(Options{Store: ms, State: st, Config: jobsConfig(spec)})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error mentioning %q", tc.name, err, tc.want)
		}
	}
	if _, err := New(Options{Store: ms, State: st, Config: jobsConfig(good, good)}); err == nil || !strings.Contains(err.Error(), "used twice") {
		t.Errorf("duplicate names: %v", err)
	}
	s, err := New(Options{Store: ms, State: st, Config: jobsConfig(good, cpuForecastJob("f", ""))})
	if err != nil {
		t.Fatal(err)
	}
	if f := s.byName["f"].fspec; f.Model != "auto" || len(f.Levels) != 2 || f.Levels[0] != 0.8 || f.Levels[1] != 0.95 || f.Step != time.Hour || f.Horizon != 24 {
		t.Errorf("forecast spec %+v", f)
	}
}
