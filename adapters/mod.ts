/**
 * Adapters to LLM providers (OpenAI, Anthropic), MCP and LiveKit.
 *
 * @module
 */
