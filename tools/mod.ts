/**
 * Tools, toolkits, hosting toolkits in a room, and the built-in toolkits.
 *
 * @module
 */
