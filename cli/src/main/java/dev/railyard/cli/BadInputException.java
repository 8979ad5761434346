package dev.railyard.cli;

/** Input a command cannot use (exit status 2); the message says what and where. */
final class BadInputException extends Exception {
    BadInputException(String message) {
        super(message);
    }

    BadInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
