/**
 * The `meshagent` command-line interface.
 *
 * @module
 */
