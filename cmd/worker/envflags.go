package main

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"time"
)

// envLookup reads an environment variable; tests replace it.
type envLookup func(string) (string, bool)

// envFlags defines flags whose default is the value of an environment
// variable when it is set. A variable that does not parse is kept as an error
// of its flag: it is reported only when the flag is not given on the command
// line, since a given flag wins over its variable.
type envFlags struct {
	fs   *flag.FlagSet
	env  envLookup
	errs map[string]error // by flag name
}

func newEnvFlags(fs *flag.FlagSet, env envLookup) *envFlags {
	return &envFlags{fs: fs, env: env, errs: map[string]error{}}
}

func (f *envFlags) str(p *string, name, envName, def, usage string) {
	v := def
	if e, ok := f.env(envName); ok {
		v = e
	}
	f.fs.StringVar(p, name, v, usage+" ["+envName+"]")
}

func (f *envFlags) num(p *int, name, envName string, def int, usage string) {
	v := def
	if e, ok := f.env(envName); ok {
		n, err := strconv.Atoi(e)
		if err != nil {
			f.errs[name] = fmt.Errorf("--%s: %s=%q is not a whole number", name, envName, e)
		}
		v = n
	}
	f.fs.IntVar(p, name, v, usage+" ["+envName+"]")
}

func (f *envFlags) dur(p *time.Duration, name, envName string, def time.Duration, usage string) {
	v := def
	if e, ok := f.env(envName); ok {
		d, err := time.ParseDuration(e)
		if err != nil {
			f.errs[name] = fmt.Errorf("--%s: %s=%q is not a duration such as 5s", name, envName, e)
		}
		v = d
	}
	f.fs.DurationVar(p, name, v, usage+" ["+envName+"]")
}

func (f *envFlags) boolean(p *bool, name, envName, usage string) {
	v := false
	if e, ok := f.env(envName); ok {
		b, err := strconv.ParseBool(e)
		if err != nil {
			f.errs[name] = fmt.Errorf("--%s: %s=%q is not true or false", name, envName, e)
		}
		v = b
	}
	f.fs.BoolVar(p, name, v, usage+" ["+envName+"]")
}

// err joins the errors of the variables whose flags the parsed command line
// does not give. Call it after fs.Parse.
func (f *envFlags) err() error {
	f.fs.Visit(func(fl *flag.Flag) { delete(f.errs, fl.Name) })
	var errs []error
	for _, err := range f.errs {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
