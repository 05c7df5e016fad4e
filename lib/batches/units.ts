export const UNITS = ["KGM", "TNE", "LBR", "H87"] as const;
