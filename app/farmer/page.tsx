import { Dashboard } from "@/components/farmer/dashboard";

export default function FarmerDashboardPage() {
  return <Dashboard />;
}
