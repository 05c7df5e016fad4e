import { THUMB_EDGE } from "@/lib/attachments/limits";
import styles from "./photo-grid.module.css";

export type GridPhoto = { url: string; thumbnailUrl: string | null; width: number | null; height: number | null };

function thumbnailSize(photo: GridPhoto): { width: number; height: number } {
  const width = photo.width ?? THUMB_EDGE;
  const height = photo.height ?? THUMB_EDGE;
  const scale = Math.min(1, THUMB_EDGE / Math.max(width, height));
  return { width: Math.round(width * scale), height: Math.round(height * scale) };
}

/** A batch's photos as lazy-loaded thumbnails (made at upload), each linking to the full photo. Server-rendered. */
export function PhotoGrid({ photos, of }: { photos: GridPhoto[]; of: string }) {
  return (
    <ul className={styles.photos}>
      {photos.map((photo, index) => (
        <li key={photo.url}>
          <a href={photo.url}>
            {/* biome-ignore lint/performance/noImgElement: the thumbnail was made at upload, and next/image would add client code to pages that have none */}
            <img
              src={photo.thumbnailUrl ?? photo.url}
              alt={`${of}, view ${index + 1}`}
              {...thumbnailSize(photo)}
              loading="lazy"
              decoding="async"
            />
          </a>
        </li>
      ))}
    </ul>
  );
}
