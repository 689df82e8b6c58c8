package reports

import (
	"errors"
	"fmt"
	"io"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// ResultsFile holds every request's vegeta.Result in vegeta's gob encoding, in send order, so
// vegeta's own tools read it: `vegeta report < results.bin`, `vegeta plot results.bin`.
const ResultsFile = "results.bin"

func writeResults(w io.Writer, reqs []Request) error {
	enc := vegeta.NewEncoder(w)
	for i := range reqs {
		if err := enc.Encode(&reqs[i].Result); err != nil {
			return fmt.Errorf("encode %s: %w", ResultsFile, err)
		}
	}
	return nil
}

func readResults(r io.Reader) ([]vegeta.Result, error) {
	dec := vegeta.NewDecoder(r)
	out := []vegeta.Result{} // not nil: ReadDir tells an empty file from a missing one
	for {
		var res vegeta.Result
		err := dec.Decode(&res)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: result %d: %w", ResultsFile, len(out)+1, err)
		}
		out = append(out, res)
	}
}
