// The page schema the sync tests share: a page with a title and para/text children.
export const SCHEMA_JSON = {
  $root_tag_ref: "#/$defs/page",
  $defs: {
    page: {
      type: "object",
      properties: {
        page: {
          type: "object",
          properties: {
            title: { type: ["string", "null"] },
            children: {
              type: "array",
              items: { anyOf: [{ $ref: "#/$defs/para" }, { $ref: "#/$defs/text" }] },
            },
          },
        },
      },
    },
    para: {
      type: "object",
      properties: {
        para: {
          type: "object",
          properties: { style: { type: ["string", "null"] }, n: { type: ["number", "null"] } },
        },
      },
    },
    text: { type: "object", properties: { text: { type: "object", properties: {} } } },
  },
};
