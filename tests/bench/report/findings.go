package main

// findings is the analysis section: why a missed target is missed and what
// would close it. Numbers live in the tables above (measured each run).
const findings = `## Findings

(filled in below)
`
