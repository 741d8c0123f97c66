// Package fleet runs the risk predictors over every matching series of a
// metric store and keeps the latest answers, sorted by urgency, for the API.
package fleet

import (
	"fmt"
	"time"
)

// Rules map metric names and tags to predictors. Several sources per
// predictor let one Foresight read Telegraf's measurements and others side
// by side. The defaults (DefaultRules) fit Telegraf's disk, mem, procstat
// and cpu plugins and the demo fleet.
type Rules struct {
	Disk     DiskRules     `yaml:"disk"`
	Memory   MemoryRules   `yaml:"memory"`
	MonthEnd MonthEndRules `yaml:"monthend"`
}

// DiskRules configure the disk-exhaustion predictor.
type DiskRules struct {
	Sources []DiskSource `yaml:"sources"`
	// History is how much history is read (default 30d); Step its
	// resolution (default 15m), downsampled in the store with max, so
	// short peaks (backups, temp files) stay visible.
	History time.Duration `yaml:"history"`
	Step    time.Duration `yaml:"step"`
	// WarnPercent is the warning level in percent (default 90).
	WarnPercent float64 `yaml:"warn_percent"`
}

// DiskSource is one measurement holding used and total bytes per volume.
type DiskSource struct {
	Measurement string `yaml:"measurement"`
	UsedField   string `yaml:"used_field"`
	TotalField  string `yaml:"total_field"`
	// EntityTags name the volume, e.g. host and path.
	EntityTags []string `yaml:"entity_tags"`
}

// MemoryRules configure the memory-leak predictor.
type MemoryRules struct {
	Sources []MemorySource `yaml:"sources"`
	// History (default 14d) and Step (default 5m, mean per step).
	History time.Duration `yaml:"history"`
	Step    time.Duration `yaml:"step"`
}

// MemorySource is one measurement holding a process's or host's memory.
type MemorySource struct {
	Measurement string `yaml:"measurement"`
	MemoryField string `yaml:"memory_field"`
	// LimitField is an optional field of the same series holding the limit.
	LimitField string `yaml:"limit_field"`
	// EntityTags name the process, e.g. host and service.
	EntityTags []string `yaml:"entity_tags"`
	// LoadMeasurement/LoadField name an optional load series joined on
	// LoadJoinTags (e.g. host), so growth that follows load is not a leak.
	LoadMeasurement string   `yaml:"load_measurement"`
	LoadField       string   `yaml:"load_field"`
	LoadJoinTags    []string `yaml:"load_join_tags"`
}

// MonthEndRules configure the month-end close predictor.
type MonthEndRules struct {
	Sources []MonthEndSource `yaml:"sources"`
	// History (default 120d, at least two past closes are needed) and Step
	// (default 15m, mean per step).
	History time.Duration `yaml:"history"`
	Step    time.Duration `yaml:"step"`
	// CloseDays is the number of business days of the close window (default 3).
	CloseDays int `yaml:"close_days"`
	// CalendarFile is a business calendar YAML file (default: the built-in one).
	CalendarFile string `yaml:"calendar_file"`
}

// MonthEndSource is one load series kind with its capacity threshold.
type MonthEndSource struct {
	Measurement string `yaml:"measurement"`
	Field       string `yaml:"field"`
	// Threshold is the capacity in the series' unit (0 = no breach check).
	Threshold  float64  `yaml:"threshold"`
	EntityTags []string `yaml:"entity_tags"`
}

// DefaultRules fit Telegraf's plugins and the demo fleet.
func DefaultRules() Rules {
	return Rules{
		Disk: DiskRules{
			Sources: []DiskSource{{Measurement: "disk", UsedField: "used", TotalField: "total", EntityTags: []string{"host", "path"}}},
			History: 30 * 24 * time.Hour, Step: 15 * time.Minute, WarnPercent: 90,
		},
		Memory: MemoryRules{
			Sources: []MemorySource{
				{Measurement: "process_mem", MemoryField: "used_bytes", LimitField: "limit_bytes", EntityTags: []string{"host", "service"},
					LoadMeasurement: "http_requests", LoadField: "rate", LoadJoinTags: []string{"host"}},
				{Measurement: "procstat", MemoryField: "memory_rss", EntityTags: []string{"host", "process_name"}},
				{Measurement: "mem", MemoryField: "used", LimitField: "total", EntityTags: []string{"host"}},
			},
			History: 14 * 24 * time.Hour, Step: 5 * time.Minute,
		},
		MonthEnd: MonthEndRules{
			Sources: []MonthEndSource{
				{Measurement: "cpu", Field: "usage_active", Threshold: 90, EntityTags: []string{"host"}},
				{Measurement: "erp_sessions", Field: "active", EntityTags: []string{"host"}},
				{Measurement: "db_connections", Field: "active", EntityTags: []string{"host"}},
				{Measurement: "http_requests", Field: "rate", EntityTags: []string{"host"}},
			},
			History: 120 * 24 * time.Hour, Step: 15 * time.Minute, CloseDays: 3,
		},
	}
}

// Validate reports rules that cannot work.
func (r Rules) Validate() error {
	for i, s := range r.Disk.Sources {
		if s.Measurement == "" || s.UsedField == "" {
			return fmt.Errorf("predictors.disk.sources[%d]: measurement and used_field are required", i)
		}
	}
	for i, s := range r.Memory.Sources {
		if s.Measurement == "" || s.MemoryField == "" {
			return fmt.Errorf("predictors.memory.sources[%d]: measurement and memory_field are required", i)
		}
		if (s.LoadMeasurement == "") != (s.LoadField == "") {
			return fmt.Errorf("predictors.memory.sources[%d]: give both load_measurement and load_field, or neither", i)
		}
	}
	for i, s := range r.MonthEnd.Sources {
		if s.Measurement == "" || s.Field == "" {
			return fmt.Errorf("predictors.monthend.sources[%d]: measurement and field are required", i)
		}
	}
	for name, d := range map[string]time.Duration{"disk.history": r.Disk.History, "disk.step": r.Disk.Step, "memory.history": r.Memory.History,
		"memory.step": r.Memory.Step, "monthend.history": r.MonthEnd.History, "monthend.step": r.MonthEnd.Step} {
		if d < 0 {
			return fmt.Errorf("predictors.%s: negative duration", name)
		}
	}
	return nil
}

// withDefaults fills zero values from DefaultRules.
func (r Rules) withDefaults() Rules {
	d := DefaultRules()
	if r.Disk.History == 0 {
		r.Disk.History = d.Disk.History
	}
	if r.Disk.Step == 0 {
		r.Disk.Step = d.Disk.Step
	}
	if r.Disk.WarnPercent == 0 {
		r.Disk.WarnPercent = d.Disk.WarnPercent
	}
	if r.Memory.History == 0 {
		r.Memory.History = d.Memory.History
	}
	if r.Memory.Step == 0 {
		r.Memory.Step = d.Memory.Step
	}
	if r.MonthEnd.History == 0 {
		r.MonthEnd.History = d.MonthEnd.History
	}
	if r.MonthEnd.Step == 0 {
		r.MonthEnd.Step = d.MonthEnd.Step
	}
	if r.MonthEnd.CloseDays == 0 {
		r.MonthEnd.CloseDays = d.MonthEnd.CloseDays
	}
	return r
}
