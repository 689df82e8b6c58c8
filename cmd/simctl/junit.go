package main

import (
	"encoding/xml"
	"fmt"
	"os"
)

// JUnit XML as CI systems read it: one suite, one test case per scenario.
type junitSuites struct {
	XMLName xml.Name   `xml:"testsuites"`
	Suites  []junitSet `xml:"testsuite"`
}

type junitSet struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Time     float64     `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Time      float64       `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Error     *junitMessage `xml:"error,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
}

// writeJUnit writes the scenarios' outcomes to path.
func writeJUnit(path string, cases []junitCase) error {
	set := junitSet{Name: "simctl run", Tests: len(cases)}
	for i := range cases {
		cases[i].ClassName = "servingsim.scenarios"
		set.Time += cases[i].Time
		if cases[i].Failure != nil {
			set.Failures++
		}
		if cases[i].Error != nil {
			set.Errors++
		}
	}
	set.Cases = cases
	b, err := xml.MarshalIndent(junitSuites{Suites: []junitSet{set}}, "", "  ")
	if err != nil {
		return fmt.Errorf("encode JUnit report: %w", err)
	}
	if err := os.WriteFile(path, append([]byte(xml.Header), append(b, '\n')...), 0o644); err != nil {
		return fmt.Errorf("write JUnit report: %w", err)
	}
	return nil
}
