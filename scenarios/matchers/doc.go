// Package matchers holds gomega matchers over a scenario run (*reports.Run, what
// scenarios.Run returns) for users who write scenarios in Go as ginkgo specs:
//
//	run, err := scenarios.Run(ctx, s, scenarios.RunOptions{})
//	Expect(err).NotTo(HaveOccurred())
//	Expect(run).To(matchers.Pass())                                  // every expectation of s held
//	Expect(run).To(matchers.AllAccounted())                          // every request has one outcome
//	Expect(run).To(matchers.ScaleTo(3).Of("hello").Within(10 * time.Second))
//	Expect(run).To(matchers.ReadyWithin(5 * time.Second).Of("hello"))
//	Expect(run).To(matchers.SplitWithin(90, 0.999).Of("hello-00001"))
//
// Pod matchers read the run's per-second samples (Run.Series), so their resolution is one
// second; the scenario's own expectations (Pass) are evaluated on the exact record. "Of" takes
// a revision name, or a Knative Service or Configuration name meaning its latest revision.
// Failure messages say what was observed and the run's seed.
package matchers
