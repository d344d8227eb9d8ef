/**
 * Browser and computer control for agents.
 *
 * @module
 */
