package dev.pagoda.constraint;

import dev.pagoda.PagodaException;

/** A schema, regex, choice list or grammar that cannot be compiled; the message names what is wrong. */
public final class ConstraintException extends PagodaException {
    public ConstraintException(String message) {
        super(message);
    }
}
