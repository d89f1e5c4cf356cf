#!/bin/sh
# nlc compiling from the explicit-update form, for nl-run's $NLC: the
# compiler is $NLC_REAL.
exec "$NLC_REAL" --update-form=expanded "$@"
